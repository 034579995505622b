from sim.viz.cli import main

raise SystemExit(main())

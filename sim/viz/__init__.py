"""The visual side of Shequ: a Mesa SolaraViz app for teaching (`shequ viz`), films of a run
(`shequ animate`) and the static figures of one run (`shequ run --figures`).

Modules: `labels` (English/Chinese words and fonts), `controls` (what a class can change, and
the model it drives, also mid-run), `graph` (the neighbourhood graph), `plots` (rates, money and
the monitors' numbers by class), `chart` (the app's class panels as SVG), `story` (one grievance
in plain words), `captions` (films' titles and captions in words), `figures` (matplotlib
figures), `app` (the teaching app: Mesa's controller in a Solara page), `animate` (GIF/MP4
films, one run or two side by side), `replay` (a run of a batch result store, rebuilt),
`assets` (the app's browser files, offline), `server` (starting the app), `screenshots` (the
README's pictures), `cli` (the `viz` and `animate` commands).
"""

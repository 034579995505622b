"""The visual side of Shequ: a Mesa SolaraViz app for teaching (`shequ viz`), films of a run
(`shequ animate`) and the static figures of one run (`shequ run --figures`).

Modules: `labels` (English/Chinese words and fonts), `controls` (what a class can change, and
the model it drives), `graph` (the neighbourhood graph), `plots` (rates and money by class),
`story` (one grievance in plain words), `app` (the SolaraViz app), `animate` (GIF/MP4),
`replay` (a run of a batch result store, rebuilt), `assets` (the app's browser files, offline),
`server` (starting the app), `cli` (the `viz` and `animate` commands).
"""

"""How a run is driven: ``launch`` opens a run and trains it, ``loop`` is the outer training
loop (resume, log, checkpoint, snapshot, stop cleanly), ``run_length`` turns epochs into
iterations, ``summaries`` writes TensorBoard, ``health`` watches a run for failures."""

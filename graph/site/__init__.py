"""The public site: a static view of the published runs (index, one page per report,
benchmarks, mathematics, graph, about), built from the publication store."""

"""Node bodies by stage, in pipeline order: intake (resolve the paper, facets, queries),
retrieval (search, memory), evidence (read, select, verify, assess), tribunal (reviewers,
consensus, revision) and publication (policy, report, publication, owner review). Each body
takes the typed state and an `Env` and returns a state update; `graph/builder.py` wires them."""

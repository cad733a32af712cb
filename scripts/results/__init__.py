"""Cloud results brought home: a job of the Azure ML workspace (and its child jobs) read
through `cloud/`, its metrics and logs from the workspace's MLflow through `tracking/`,
recorded in its run folder's cloud/ part and mirrored into the local MLflow store, its
named outputs downloaded beside them.

Owns: which job a `just fetch` argument means, the cloud/ record of a run folder (layout in
runfolder/layout.py), and each fetched job's mirrored run in the local store.
Must not: run anything locally, or write a run folder's local part (code/, run.json).
"""

"""The steps of the example pipeline (azure-ml-pipeline.yaml): prep splits the digits into
a training and a test set, train fits the MLP on the first, evaluate scores it on the
second. Each step reads its inputs from folders and writes its outputs to folders, as Azure
ML mounts them; the pipeline passes one step's output folder to the next."""

"""Docker: the engine, images built from a build context and tagged by its hash, the local
base images for machines without an image registry, and the `docker run` of a job.

Owns: every call to the `docker` command line, and the images and containers it makes.
Must not: decide what a run folder holds, or run anything but through a container it names.
"""

"""Code shared by experiments. An experiment that lists `shared` as a dependency gets this
package (and `shared`'s own dependencies) in its run folder and environment."""

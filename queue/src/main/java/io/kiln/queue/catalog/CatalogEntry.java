package io.kiln.queue.catalog;

/**
 * A function's row in the catalog as of change {@code seq}: its current version, or none if
 * it was deleted then.
 *
 * @param name    the function
 * @param seq     the change that last wrote the row
 * @param current the current version; null for a deleted function
 */
public record CatalogEntry(String name, long seq, CatalogVersion current) {

    public boolean deleted() {
        return current == null;
    }
}

package io.kiln.queue.catalog;

import java.util.List;

/**
 * The whole catalog, read in one statement.
 *
 * @param seq     the highest change it includes: {@link FunctionCatalog#changesSince} from here
 *                misses nothing
 * @param entries every function's row, deleted ones too, by name
 */
public record CatalogState(long seq, List<CatalogEntry> entries) {

    public CatalogState {
        entries = List.copyOf(entries);
    }

    /** True if no function was ever published: a cluster's first node may seed it with its own. */
    public boolean neverUsed() {
        return entries.isEmpty();
    }

    /** The functions that exist (not deleted), by name. */
    public List<CatalogVersion> live() {
        return entries.stream().filter(e -> !e.deleted()).map(CatalogEntry::current).toList();
    }
}

package io.tidemark.catalog.verify;

import java.util.List;

/**
 * The row-by-row comparison of one Iceberg table with its source table (the ground truth).
 *
 * <ul>
 *   <li>{@code missing}: keys in the source and not in the table;
 *   <li>{@code extra}: keys in the table and not in the source;
 *   <li>{@code duplicate}: table rows beyond the first for a key (a key present twice counts 1);
 *   <li>{@code stale}: keys in both whose column values differ.
 * </ul>
 *
 * <p>Examples hold up to {@link GroundTruthDiff#MAX_EXAMPLES} keys of each kind, for messages.
 * {@code bucketsCompared} of the {@link GroundTruthDiff#BUCKETS} key buckets were compared, and
 * {@code differingBuckets} are those whose rows differed (what {@link GroundTruthDiff#recheck}
 * compares again); {@code sourceAt} and {@code tableAt} say which states were compared. Columns of
 * the Iceberg table the source table no longer has ({@code columnsNotInSource}: dropped in the
 * source and kept under {@code schema-evolution: lenient}) are not compared. {@code differingKeys}
 * are the fingerprints ({@link CanonicalValues#keyFingerprint}) of every differing key when at most
 * {@link GroundTruthDiff#MAX_KEYS} differ, and none otherwise.
 */
public record DiffReport(
        String sourceTable,
        String icebergTable,
        long sourceRows,
        long tableRows,
        long missing,
        long extra,
        long duplicate,
        long stale,
        List<String> examples,
        int bucketsCompared,
        List<Integer> differingBuckets,
        String sourceAt,
        String tableAt,
        List<String> columnsNotInSource,
        KeyFingerprints differingKeys) {

    public DiffReport {
        examples = List.copyOf(examples);
        differingBuckets = List.copyOf(differingBuckets);
        columnsNotInSource = List.copyOf(columnsNotInSource);
    }

    /** True when the table equals the source: no missing, extra, duplicate or stale row. */
    public boolean isClean() {
        return missing == 0 && extra == 0 && duplicate == 0 && stale == 0;
    }

    /** One line for logs and reports. */
    public String summary() {
        return String.format(
                "%s -> %s: source rows %d, iceberg rows %d, missing %d, extra %d, duplicate %d, stale %d%s",
                sourceTable,
                icebergTable,
                sourceRows,
                tableRows,
                missing,
                extra,
                duplicate,
                stale,
                examples.isEmpty() ? "" : " " + examples);
    }

    /** Which states were compared, and how many key buckets differed. */
    public String scope() {
        return String.format(
                "buckets differing %d of %d compared%s; source %s; table snapshot %s%s",
                differingBuckets.size(),
                bucketsCompared,
                differingBuckets.isEmpty()
                        ? ""
                        : " "
                                + differingBuckets.subList(0, Math.min(20, differingBuckets.size()))
                                + (differingBuckets.size() > 20 ? " and more" : ""),
                sourceAt,
                tableAt,
                columnsNotInSource.isEmpty()
                        ? ""
                        : "; columns not in the source, not compared: " + columnsNotInSource);
    }

    @Override
    public String toString() {
        return summary();
    }
}

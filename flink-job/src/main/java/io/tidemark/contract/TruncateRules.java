package io.tidemark.contract;

import io.tidemark.catalog.contract.ReasonCode;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.config.TruncatePolicy;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.source.ColumnDefaults;
import io.tidemark.source.LiveTables;
import java.io.Serializable;
import java.util.Map;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a source {@code TRUNCATE} does, by its table's {@code truncate} policy: applied under {@code
 * apply} (the reconcilers and writers empty the target in its place), held in the quarantine table
 * under {@code quarantine} (the target keeps its rows), the end of the run under {@code fail}. A
 * truncate made while the table's snapshot was read is applied only where the table can be read
 * again while the job runs (the commit that empties the target asks for that re-read); elsewhere it
 * is held, naming the fix.
 */
final class TruncateRules implements Serializable {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(TruncateRules.class);

    /** Source table to its {@code truncate} policy; {@code apply} if absent. */
    private final Map<String, TruncatePolicy> policies;

    private final LiveTables live;

    private final ColumnDefaults.Lookup rereads;

    /**
     * @param policies source table to its {@code truncate} policy ({@code apply} if absent)
     * @param live tables created while the job runs: their pattern's policy
     * @param rereads which tables can be read again while the job runs
     */
    TruncateRules(
            Map<String, TruncatePolicy> policies, LiveTables live, ColumnDefaults.Lookup rereads) {
        this.policies = Map.copyOf(policies);
        this.live = live;
        this.rereads = rereads;
    }

    /**
     * The truncate {@code change}: null to apply it, else why it is held (quarantined, not
     * applied). Throws, without restarts, under {@code fail}.
     */
    String decide(ChangeEvent change) {
        TruncatePolicy policy = policy(change.table());
        if (policy == TruncatePolicy.FAIL) {
            throw new SuppressRestartsException(
                    new IllegalStateException(
                            String.format(
                                    "table %s was truncated in the source at %s and its truncate policy is "
                                            + "'fail'. Set 'truncate: apply' (empty the target too) or 'truncate: "
                                            + "quarantine' (keep its rows) on the table's entry and restart from "
                                            + "the last checkpoint, or start the table afresh",
                                    change.table(), change.position())));
        }
        if (policy == TruncatePolicy.QUARANTINE) {
            LOG.warn(
                    "Table {} was truncated in the source at {}; its truncate policy is 'quarantine', so "
                            + "the target keeps its rows and the truncate is in the quarantine table",
                    change.table(),
                    change.position());
            return "TRUNCATE not applied (truncate: quarantine): the target keeps its rows";
        }
        String during = change.truncateDuringSnapshot();
        if (during != null && !rereads.rereadable(change.table())) {
            // emptying the target would remove rows read after the truncate, and no re-read
            // can bring them back
            LOG.error(
                    "TRUNCATE of {} at {} came while the table's snapshot was being read ({}) and the "
                            + "table cannot be read again while the job runs: it is quarantined, not "
                            + "applied",
                    change.table(),
                    change.position(),
                    during);
            return String.format(
                    "TRUNCATE of %s at %s while the table's snapshot was being read: chunks "
                            + "read before it would need emptying and chunks read after it "
                            + "keeping, and this table cannot be read again while the job runs "
                            + "(%s); the truncate is not applied. Start the pipeline afresh "
                            + "(run --fresh) or check the table with `tidemark verify`",
                    change.table(),
                    during,
                    "see 'tidemark resnapshot' in docs/operations.md for the tables that can");
        }
        if (during != null) {
            LOG.warn(
                    "Table {} was truncated in the source at {}, while its snapshot was being read "
                            + "({}): applying it; the commit that empties the target asks for the table "
                            + "to be read again, since chunks read after the truncate are emptied with it",
                    change.table(),
                    change.position(),
                    during);
        } else {
            LOG.info(
                    "Table {} was truncated in the source at {}: applying it",
                    change.table(),
                    change.position());
        }
        return null;
    }

    /**
     * A truncate the decoder could not turn into one exact change (quarantined as malformed): under
     * {@code fail} it still stops the run, without restarts.
     */
    void stopIfFailing(ChangeEvent malformed) {
        if (ReasonCode.TRUNCATE.name().equals(malformed.malformedReason())
                && policy(malformed.table()) == TruncatePolicy.FAIL) {
            throw new SuppressRestartsException(
                    new IllegalStateException(
                            String.format(
                                    "table %s was truncated in the source at %s and its truncate "
                                            + "policy is 'fail' (%s)",
                                    malformed.table(),
                                    malformed.position(),
                                    malformed.malformedDetail())));
        }
    }

    private TruncatePolicy policy(String table) {
        TruncatePolicy policy = policies.get(table);
        if (policy == null) {
            policy = live.entryFor(table).map(TableConfig::truncate).orElse(TruncatePolicy.APPLY);
        }
        return policy;
    }
}

package io.tidemark.commit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class CommitTargetTest {

    @Test
    void sideTablesAreCommittedBeforeTheTargets() {
        CommitTarget orders = new CommitTarget("db.orders", "public.orders", false);
        CommitTarget ordersQuarantine =
                new CommitTarget(
                        "db.orders__quarantine",
                        "public.orders",
                        CommitTarget.Kind.QUARANTINE,
                        "1");
        CommitTarget items = new CommitTarget("db.items", "public.items", false);
        CommitTarget itemsLate = new CommitTarget("db.items__late", "public.items", true);
        CommitTarget unrouted =
                new CommitTarget("db.__quarantine", "*", CommitTarget.Kind.QUARANTINE, null);

        assertThat(
                        CommitTarget.inCommitOrder(
                                List.of(orders, ordersQuarantine, items, itemsLate, unrouted)))
                .containsExactly(ordersQuarantine, itemsLate, unrouted, orders, items);
    }
}

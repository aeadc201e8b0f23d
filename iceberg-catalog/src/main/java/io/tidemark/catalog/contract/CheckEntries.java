package io.tidemark.catalog.contract;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A contract's {@code checks}: its data-quality checks, each problem named by its place. */
final class CheckEntries {

    private static final Set<String> CHECK = Set.of("check", "column", "max", "window", "mode");

    private CheckEntries() {}

    static List<QualityCheck> parse(Object value, List<String> problems) {
        List<QualityCheck> checks = new ArrayList<>();
        if (value == null) {
            return checks;
        }
        if (!(value instanceof List<?> list)) {
            problems.add("checks: expected a list of {check, column, max, window, mode}");
            return checks;
        }
        for (int i = 0; i < list.size(); i++) {
            String at = "checks[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> entry)) {
                problems.add(at + ": expected {check, column, max, window, mode}");
                continue;
            }
            YamlValues.unknownKeys(entry, CHECK, at + ".", problems);
            String kindText = YamlValues.string(entry, "check", at + ".", problems, true);
            if (kindText == null) {
                continue;
            }
            QualityCheck.Kind kind;
            QualityCheck.Mode mode = QualityCheck.Mode.FAIL;
            try {
                kind = QualityCheck.Kind.parse(kindText);
            } catch (IllegalArgumentException e) {
                problems.add(at + ".check: " + e.getMessage());
                continue;
            }
            if (entry.get("mode") != null) {
                try {
                    mode = QualityCheck.Mode.parse(String.valueOf(entry.get("mode")));
                } catch (IllegalArgumentException e) {
                    problems.add(at + ".mode: " + e.getMessage());
                }
            }
            String column =
                    YamlValues.string(
                            entry,
                            "column",
                            at + ".",
                            problems,
                            kind == QualityCheck.Kind.NULL_RATE);
            double max = 0;
            boolean ratio =
                    kind == QualityCheck.Kind.QUARANTINE_RATIO
                            || kind == QualityCheck.Kind.NULL_RATE;
            if (ratio) {
                Object raw = entry.get("max");
                if (!(raw instanceof Number number)
                        || number.doubleValue() < 0
                        || number.doubleValue() > 1) {
                    problems.add(at + ".max: expected a ratio between 0 and 1, got '" + raw + "'");
                } else {
                    max = number.doubleValue();
                }
            } else if (entry.containsKey("max")) {
                problems.add(at + ".max: only quarantine-ratio and null-rate take a maximum");
            }
            int window =
                    entry.get("window") == null
                            ? (kind == QualityCheck.Kind.NO_ROWS_WRITTEN ? 5 : 10)
                            : YamlValues.integer(
                                    entry.get("window"), at + ".window", problems, true);
            if (window > 0) {
                checks.add(new QualityCheck(kind, column, max, window, mode));
            }
        }
        return checks;
    }
}

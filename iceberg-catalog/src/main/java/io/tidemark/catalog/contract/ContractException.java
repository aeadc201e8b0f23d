package io.tidemark.catalog.contract;

import java.util.List;

/** A contract file that cannot be used, or a contract version that cannot replace another. */
public final class ContractException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public ContractException(String subject, List<String> problems) {
        super(subject + ":\n  - " + String.join("\n  - ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}

package io.tidemark.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Reading the end of a child process's log into an error message. */
final class Logs {

    private Logs() {}

    /** The last {@code lines} lines of {@code log}, headed by its path. */
    static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return "the end of "
                    + log
                    + ":\n"
                    + String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return log + " is unreadable: " + e.getMessage();
        }
    }
}

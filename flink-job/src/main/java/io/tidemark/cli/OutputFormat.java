package io.tidemark.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintStream;

/**
 * What a reporting command prints on stdout: its text ({@code --output text}, the default), or one
 * JSON document for scripts ({@code --output json}), its text going to stderr instead.
 */
enum OutputFormat {
    text,
    json;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where the command's lines go: stdout for text, stderr beside a JSON document. */
    PrintStream lines() {
        return this == json ? System.err : System.out;
    }

    /**
     * Prints {@code document} (maps, lists, strings, numbers) on stdout when the format is JSON.
     */
    void document(Object document) throws JsonProcessingException {
        if (this == json) {
            System.out.println(JSON.writeValueAsString(document));
        }
    }
}

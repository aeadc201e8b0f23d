package io.tidemark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

/**
 * The command line's logging file is well-formed: log4j falls back to its default configuration on
 * a parse error (an XML comment may not hold "--"), which puts every ERROR line of the embedded
 * servers on the demo's console and drops the log file.
 */
class LoggingConfigTest {

    @Test
    void theCommandLinesLog4jFileParses() throws Exception {
        try (InputStream in = LoggingConfigTest.class.getResourceAsStream("/log4j2-cli.xml")) {
            assertThat(in).isNotNull();
            Document document = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(in);
            assertThat(document.getDocumentElement().getTagName()).isEqualTo("Configuration");
        }
    }
}

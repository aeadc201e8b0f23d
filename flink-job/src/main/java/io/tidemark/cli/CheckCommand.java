package io.tidemark.cli;

import io.tidemark.config.PipelineConfig;
import io.tidemark.job.Preflight;
import io.tidemark.job.Preflight.Finding;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tidemark check --config pipeline.yaml}: what {@code tidemark run} checks before it starts
 * a job, without the job and without making or changing anything (no publication, slot or Iceberg
 * table), each problem with its fix ({@link Preflight}).
 */
@Command(
        name = "check",
        mixinStandardHelpOptions = true,
        description = {
            "Check that the pipeline can start (sources, server settings, rights, tables, the"
                    + " catalog, contracts) without starting it or changing anything.",
            "Exit code 0: ready; 1: a problem was found (each is printed with its fix); 2: bad"
                    + " usage; 3: the check itself failed (an error)."
        })
final class CheckCommand implements Callable<Integer> {

    static final int EXIT_PROBLEMS = 1;

    @Option(
            names = {"-c", "--config"},
            required = true,
            paramLabel = "<pipeline.yaml>",
            description = "The pipeline file to check.")
    Path config;

    @Option(
            names = "--output",
            paramLabel = "<text|json>",
            defaultValue = "text",
            description =
                    "text (default), or json: one document on stdout with every finding (the text"
                            + " goes to stderr).")
    OutputFormat output;

    @Override
    public Integer call() throws Exception {
        PipelineConfig pipeline = Tidemark.loadPipeline(config, "check");
        if (pipeline == null) {
            return Tidemark.EXIT_USAGE;
        }
        List<Finding> findings = Preflight.check(pipeline);
        java.io.PrintStream out = output.lines();
        long problems = findings.stream().filter(f -> !f.ok()).count();
        List<Map<String, Object>> listed = new ArrayList<>();
        for (Finding finding : findings) {
            out.printf(
                    "%-8s %s, %s: %s%n",
                    finding.ok() ? "ok" : "PROBLEM",
                    finding.subject(),
                    finding.check(),
                    finding.detail());
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("subject", finding.subject());
            entry.put("check", finding.check());
            entry.put("ok", finding.ok());
            entry.put("detail", finding.detail());
            listed.add(entry);
        }
        out.println(
                problems == 0
                        ? "ready: `tidemark run --config " + config + "` can start"
                        : problems + " problem(s): fix them and check again");
        int exit = problems == 0 ? 0 : EXIT_PROBLEMS;
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("command", "check");
        document.put("exitCode", exit);
        document.put("findings", listed);
        output.document(document);
        return exit;
    }
}

package io.tidemark.testing;

import io.tidemark.runtime.RunContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * The savepoint fixtures of {@code SavepointCompatibilityITCase}: one zip per release under {@link
 * #SOURCES}, unpacked to {@code target/savepoint-compat/<version>}. Paths are relative to the
 * module directory (the tests' working directory), so the Iceberg metadata written with a relative
 * warehouse path finds its files again wherever the checkout lives.
 */
public final class SavepointFixtures {

    /** Where the fixtures are kept, relative to the module directory. */
    public static final Path SOURCES = Path.of("src", "test", "resources", "savepoint-compat");

    private static final Path WORK = Path.of("target", "savepoint-compat");
    private static final String PROPERTIES = "fixture.properties";
    private static final String POSTGRES = "postgres";

    private SavepointFixtures() {}

    /** One unpacked fixture. */
    public record Fixture(
            String version, String codeVersion, Path root, Path savepoint, String lineage) {

        /** The embedded PostgreSQL directory ({@code data} inside). */
        public Path postgres() {
            return root.resolve(POSTGRES);
        }

        /** The warehouse, relative to the working directory as the fixture's metadata has it. */
        public Path warehouse() {
            return root.resolve("warehouse");
        }
    }

    /** The fixtures kept in the sources, oldest version first. */
    public static List<Path> list() throws IOException {
        if (!Files.isDirectory(SOURCES)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(SOURCES)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".zip")).sorted().toList();
        }
    }

    /** The version this build's fixture is named after: the project version, no -SNAPSHOT. */
    public static String releaseVersion() {
        String version = RunContext.buildVersion();
        int plus = version.indexOf('+');
        return (plus < 0 ? version : version.substring(0, plus)).replace("-SNAPSHOT", "");
    }

    public static Path workDir(String version) {
        return WORK.resolve(version);
    }

    /**
     * Records the fixture's facts in {@code root} and zips {@code root} into the sources, leaving
     * out the PostgreSQL binaries; the server must have been stopped.
     */
    public static Path pack(String version, Path root, Path savepoint, String lineage)
            throws IOException {
        Properties properties = new Properties();
        properties.setProperty("version", version);
        properties.setProperty("code-version", RunContext.buildVersion());
        properties.setProperty("savepoint", savepoint.toString());
        properties.setProperty("lineage", lineage);
        properties.setProperty("written", Instant.now().toString());
        try (Writer out = Files.newBufferedWriter(root.resolve(PROPERTIES))) {
            properties.store(out, "savepoint fixture, see SavepointCompatibilityITCase");
        }
        Files.createDirectories(SOURCES);
        Path zip = SOURCES.resolve(version + ".zip");
        Path binaries = root.resolve(POSTGRES).resolve("work");
        try (OutputStream file = Files.newOutputStream(zip);
                ZipOutputStream out = new ZipOutputStream(file);
                Stream<Path> paths = Files.walk(root)) {
            out.setLevel(9);
            for (Path path : paths.sorted().toList()) {
                if (path.equals(root)
                        || path.startsWith(binaries)
                        || path.getFileName().toString().equals("postmaster.pid")) {
                    continue;
                }
                String name = root.relativize(path).toString();
                if (Files.isDirectory(path)) {
                    // PostgreSQL needs its empty directories (pg_tblspc, pg_notify, ...)
                    out.putNextEntry(new ZipEntry(name + "/"));
                } else {
                    out.putNextEntry(new ZipEntry(name));
                    Files.copy(path, out);
                }
                out.closeEntry();
            }
        }
        return zip;
    }

    /** Unpacks {@code zip} into its work directory (emptied first). */
    public static Fixture unpack(Path zip) throws IOException {
        String version = zip.getFileName().toString().replaceFirst("\\.zip$", "");
        Path root = workDir(version);
        delete(root);
        try (InputStream file = Files.newInputStream(zip);
                ZipInputStream in = new ZipInputStream(file)) {
            for (ZipEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
                Path target = root.resolve(entry.getName()).normalize();
                if (!target.startsWith(root)) {
                    throw new IOException("zip entry outside the fixture: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(in, target);
                }
            }
        }
        // PostgreSQL refuses a data directory others may read
        Files.setPosixFilePermissions(
                root.resolve(POSTGRES).resolve("data"),
                PosixFilePermissions.fromString("rwx------"));
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(root.resolve(PROPERTIES))) {
            properties.load(reader);
        }
        return new Fixture(
                version,
                properties.getProperty("code-version"),
                root,
                root.resolve(properties.getProperty("savepoint")).toAbsolutePath(),
                properties.getProperty("lineage"));
    }

    public static void delete(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(root)) {
            walk.forEach(paths::add);
        }
        paths.sort(Comparator.reverseOrder());
        for (Path path : paths) {
            Files.delete(path);
        }
    }
}

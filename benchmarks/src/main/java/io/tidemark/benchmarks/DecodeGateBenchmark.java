package io.tidemark.benchmarks;

import io.tidemark.catalog.contract.Constraint;
import io.tidemark.catalog.contract.Contract;
import io.tidemark.catalog.contract.Contract.Column;
import io.tidemark.catalog.contract.EvolutionPolicy;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.DebeziumDecoder;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Decimal;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Schema;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Struct;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.source.SourceRecord;
import org.apache.iceberg.types.Types;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Changes per second through the two per-record steps before the reconciler: decoding a Debezium
 * update of a 10-column row ({@link DebeziumDecoder}) and checking its after image against a
 * contract with four constraints ({@link Contract#check}, what the contract gate does per change).
 *
 * <pre>
 * ./mvnw -q -Pjmh compile -pl benchmarks -am -Djmh.args="DecodeGateBenchmark -f 1 -wi 2 -i 3"
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class DecodeGateBenchmark {

    private static final Schema ROW =
            SchemaBuilder.struct()
                    .name("bench.public.items.Value")
                    .field("id", Schema.INT64_SCHEMA)
                    .field("qty", Schema.INT32_SCHEMA)
                    .field("score", Schema.OPTIONAL_INT64_SCHEMA)
                    .field("price", Decimal.builder(2).optional().build())
                    .field("ratio", Schema.OPTIONAL_FLOAT64_SCHEMA)
                    .field("active", Schema.OPTIONAL_BOOLEAN_SCHEMA)
                    .field("name", Schema.OPTIONAL_STRING_SCHEMA)
                    .field("code", Schema.OPTIONAL_STRING_SCHEMA)
                    .field(
                            "day",
                            SchemaBuilder.int32().name("io.debezium.time.Date").optional().build())
                    .field(
                            "updated_at",
                            SchemaBuilder.string()
                                    .name("io.debezium.time.ZonedTimestamp")
                                    .optional()
                                    .build())
                    .build();

    private static final Schema SOURCE =
            SchemaBuilder.struct()
                    .field("ts_ms", Schema.INT64_SCHEMA)
                    .field("schema", Schema.STRING_SCHEMA)
                    .field("table", Schema.STRING_SCHEMA)
                    .field("txId", Schema.OPTIONAL_INT64_SCHEMA)
                    .field("lsn", Schema.OPTIONAL_INT64_SCHEMA)
                    .field("sequence", Schema.OPTIONAL_STRING_SCHEMA)
                    .build();

    private static final Schema ENVELOPE =
            SchemaBuilder.struct()
                    .field("before", SchemaBuilder.struct().optional().build())
                    .field("after", ROW)
                    .field("source", SOURCE)
                    .field("op", Schema.STRING_SCHEMA)
                    .field("ts_ms", Schema.OPTIONAL_INT64_SCHEMA)
                    .build();

    private DebeziumDecoder decoder;
    private SourceRecord record;
    private Contract contract;
    private Map<String, Object> image;

    @Setup
    public void setUp() {
        decoder = new DebeziumDecoder(Map.of("public.items", List.of("id")));
        Struct row =
                new Struct(ROW)
                        .put("id", 42L)
                        .put("qty", 7)
                        .put("score", 294L)
                        .put("price", new BigDecimal("12.34"))
                        .put("ratio", 14.0)
                        .put("active", true)
                        .put("name", "item 42")
                        .put("code", "C42")
                        .put("day", 20_000)
                        .put("updated_at", "2026-11-30T10:15:30.123456Z");
        Struct source =
                new Struct(SOURCE)
                        .put("ts_ms", 1_700_000_000_000L)
                        .put("schema", "public")
                        .put("table", "items")
                        .put("txId", 77L)
                        .put("lsn", 5000L)
                        .put("sequence", "[\"4096\",\"5000\"]");
        record =
                new SourceRecord(
                        Map.of(),
                        Map.of(),
                        "t",
                        null,
                        null,
                        ENVELOPE,
                        new Struct(ENVELOPE)
                                .put("after", row)
                                .put("source", source)
                                .put("op", "u"));
        contract =
                new Contract(
                        "public.items",
                        1,
                        List.of(
                                new Column("id", Types.LongType.get(), false),
                                new Column("qty", Types.IntegerType.get(), false),
                                new Column("score", Types.LongType.get(), true),
                                new Column("price", Types.DecimalType.of(12, 2), true),
                                new Column("ratio", Types.DoubleType.get(), true),
                                new Column("active", Types.BooleanType.get(), true),
                                new Column("name", Types.StringType.get(), true),
                                new Column("code", Types.StringType.get(), true),
                                new Column("day", Types.DateType.get(), true),
                                new Column("updated_at", Types.TimestampType.withZone(), false)),
                        List.of("id"),
                        Contract.COMMIT_ORDER,
                        List.of(
                                new Constraint.MaxLength("name", 100),
                                new Constraint.Matches("code", Pattern.compile("[A-Z][0-9]+")),
                                new Constraint.Range(
                                        "qty", BigDecimal.ZERO, BigDecimal.valueOf(1_000_000)),
                                new Constraint.AllowedValues(
                                        "name", List.of("item 42", "item 43"))),
                        Duration.ofHours(1),
                        EvolutionPolicy.QUARANTINE);
        image = decoder.decode(record).after();
    }

    @Benchmark
    public ChangeEvent decode() {
        return decoder.decode(record);
    }

    @Benchmark
    public Contract.Checked contractCheck() {
        return contract.check(image, false);
    }
}

package io.tidemark.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Schema;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.SchemaBuilder;
import org.junit.jupiter.api.Test;

/** A MySQL tinyint(1) read as a boolean, as its column's source type says (and only then). */
class ValueConversionTest {

    private static Schema tinyint(String length) {
        return SchemaBuilder.int16()
                .optional()
                .parameter(ValueConversion.SOURCE_TYPE, "TINYINT")
                .parameter(ValueConversion.SOURCE_LENGTH, length)
                .build();
    }

    @Test
    void aTinyint1IsFalseOrTrueAndAnyOtherValueNotRepresentable() {
        assertThat(ValueConversion.convert((short) 0, tinyint("1"), "d.t", "v")).isEqualTo(false);
        assertThat(ValueConversion.convert((short) 1, tinyint("1"), "d.t", "v")).isEqualTo(true);
        assertThat(ValueConversion.convert(null, tinyint("1"), "d.t", "v")).isNull();
        for (short other : new short[] {2, -1, 127}) {
            assertThatThrownBy(() -> ValueConversion.convert(other, tinyint("1"), "d.t", "v"))
                    .isInstanceOf(ValueConversion.NotRepresentableException.class)
                    .hasMessageContaining("table 'd.t' column 'v' is a tinyint(1)")
                    .hasMessageContaining("holds " + other + ", which is neither 0 nor 1")
                    .hasMessageContaining("turn the option off");
        }
        // a wider tinyint, or one whose source type is not propagated, stays an int
        assertThat(ValueConversion.convert((short) 2, tinyint("4"), "d.t", "v")).isEqualTo(2);
        assertThat(ValueConversion.convert((short) 1, SchemaBuilder.int16().build(), "d.t", "v"))
                .isEqualTo(1);
    }
}

package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.debezium.data.SpecialValueDecimal;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

/** Each reader's form of a numeric becomes one text, special values included. */
class NumericTextConverterTest {

    @Test
    void decimalsKeepTheirScaleAndSpecialValuesTheirName() {
        assertThat(NumericTextConverter.text(new BigDecimal("1.50"))).isEqualTo("1.50");
        assertThat(NumericTextConverter.text(new BigDecimal("1E+3"))).isEqualTo("1000");
        assertThat(NumericTextConverter.text(new SpecialValueDecimal(new BigDecimal("-0.01"))))
                .isEqualTo("-0.01");
        assertThat(NumericTextConverter.text(SpecialValueDecimal.NOT_A_NUMBER)).isEqualTo("NaN");
        assertThat(NumericTextConverter.text(SpecialValueDecimal.POSITIVE_INF))
                .isEqualTo("Infinity");
        assertThat(NumericTextConverter.text(SpecialValueDecimal.NEGATIVE_INF))
                .isEqualTo("-Infinity");
        // the JDBC driver's NaN
        assertThat(NumericTextConverter.text(Double.NaN)).isEqualTo("NaN");
        assertThat(NumericTextConverter.text(null)).isNull();
    }
}

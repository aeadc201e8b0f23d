package io.tidemark.benchmarks.e2e;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/** Line charts as PNG, drawn with java.awt (headless): one line per side. */
final class Charts {

    private static final Color[] COLORS = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd)
    };

    private Charts() {}

    /** Writes a chart of {@code series} (name to (x, y) points) to {@code file}. */
    static void line(
            Path file,
            String title,
            String xLabel,
            String yLabel,
            Map<String, List<double[]>> series)
            throws IOException {
        int width = 900;
        int height = 480;
        int left = 90;
        int right = 180;
        int top = 50;
        int bottom = 60;
        double maxX = 1e-9;
        double maxY = 1e-9;
        for (List<double[]> points : series.values()) {
            for (double[] p : points) {
                maxX = Math.max(maxX, p[0]);
                maxY = Math.max(maxY, p[1]);
            }
        }
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, left, 28);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        int plotW = width - left - right;
        int plotH = height - top - bottom;
        g.drawRect(left, top, plotW, plotH);
        for (int i = 0; i <= 4; i++) {
            int y = top + plotH - i * plotH / 4;
            int x = left + i * plotW / 4;
            g.setColor(new Color(0xdddddd));
            g.drawLine(left + 1, y, left + plotW - 1, y);
            g.setColor(Color.BLACK);
            g.drawString(String.format("%,.0f", maxY * i / 4), 8, y + 4);
            g.drawString(String.format("%.0f", maxX * i / 4), x - 8, top + plotH + 18);
        }
        g.drawString(xLabel, left + plotW / 2 - 40, height - 15);
        g.drawString(yLabel, 8, top - 10);
        int c = 0;
        for (Map.Entry<String, List<double[]>> entry : series.entrySet()) {
            Color color = COLORS[c % COLORS.length];
            g.setColor(color);
            g.setStroke(new BasicStroke(2f));
            int px = -1;
            int py = -1;
            for (double[] p : entry.getValue()) {
                int x = left + (int) Math.round(p[0] / maxX * plotW);
                int y = top + plotH - (int) Math.round(p[1] / maxY * plotH);
                if (px >= 0) {
                    g.drawLine(px, py, x, y);
                }
                g.fillOval(x - 2, y - 2, 5, 5);
                px = x;
                py = y;
            }
            g.fillRect(left + plotW + 15, top + 10 + c * 22, 14, 4);
            g.setColor(Color.BLACK);
            g.drawString(entry.getKey(), left + plotW + 35, top + 16 + c * 22);
            c++;
        }
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }

    static Map<String, List<double[]>> series() {
        return new LinkedHashMap<>();
    }
}

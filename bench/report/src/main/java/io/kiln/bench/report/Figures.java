package io.kiln.bench.report;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.renderer.xy.XYStepRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Paint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The report's figures, drawn with JFreeChart to PNG without a display: cold against warm call
 * latency per engine (empirical CDF, log time axis), warm throughput against callers, and
 * private memory per idle instance. A figure whose data was not measured is not drawn; its
 * {@link Figure} says why, and the report prints that instead of a picture.
 */
final class Figures {

    static {
        // Before any AWT class loads: there is no display on a build machine or in the lab.
        System.setProperty("java.awt.headless", "true");
    }

    static final int WIDTH = 960;
    static final int HEIGHT = 600;

    /** Colours that stay apart for up to six engines, also in greyscale print. */
    private static final Paint[] COLOURS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0x9467bd), new Color(0xff7f0e), new Color(0x555555)};

    /** One figure: its file name, what it shows, and the file, or why it was not drawn. */
    record Figure(String name, String caption, Path file, String whyNotDrawn) {
        boolean drawn() {
            return file != null;
        }
    }

    private Figures() {
    }

    /** Draws every figure the run has data for into {@code dir} (created if needed). */
    static List<Figure> draw(RunResults run, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Figure> figures = new ArrayList<>();
        for (String[] place : new String[][]{{"host", "path"}, {"lab", "path-lab"}}) {
            figures.add(coldWarm(run, place[0], place[1], dir));
            figures.add(throughput(run, place[0], place[1], dir));
        }
        figures.add(memory(run, dir));
        for (Figure f : figures) {
            if (!f.drawn()) {
                Files.deleteIfExists(dir.resolve(f.name())); // left by an earlier report of this run
            }
        }
        return figures;
    }

    /** "What, where (engine, engine)", or "What, where" when no engine measured it. */
    private static String title(String what, String where, List<String> engines) {
        return what + ", " + where + (engines.isEmpty() ? ""
                : " (" + engines.stream().map(Format::engine).collect(Collectors.joining(", ")) + ")");
    }

    /** {@code where}: the place in the file's name, the one the scenario is for. */
    static Figure coldWarm(RunResults run, String where, String scenario, Path dir) throws IOException {
        String name = "cold-warm-" + where + ".png";
        ScenarioResult r = run.scenario(scenario);
        if (r == null) {
            return notDrawn(name, "Cold against warm calls, " + where, scenario + ": " + run.missing(scenario).line());
        }
        XYSeriesCollection data = new XYSeriesCollection();
        List<String> engines = new ArrayList<>();
        List<Boolean> cold = new ArrayList<>();
        for (String engine : r.engines()) {
            for (String id : List.of("cold-call", "warm-call")) {
                double[] samples = r.samples(engine, id);
                if (samples == null || samples.length == 0) {
                    continue;
                }
                data.addSeries(cdf(Format.engine(engine) + ", " + id.replace('-', ' ') + " (n=" + samples.length + ")",
                        samples));
                if (!engines.contains(engine)) {
                    engines.add(engine);
                }
                cold.add(id.equals("cold-call"));
            }
        }
        // The place the scenario says it ran: path-lab runs on the host itself where it has hardware KVM.
        String title = title("Cold vs warm calls", r.where(), engines);
        if (data.getSeriesCount() == 0) {
            return notDrawn(name, title, scenario + ".json has no cold-call or warm-call samples");
        }
        LogAxis x = new LogAxis("call latency, ms (log scale)");
        x.setTickUnit(new NumberTickUnit(1)); // a tick per decade: 1, 10, 100 ms, not 31.623
        x.setNumberFormatOverride(new DecimalFormat("0.###"));
        NumberAxis y = new NumberAxis("fraction of calls at or below");
        y.setRange(0, 1.0);
        XYStepRenderer renderer = new XYStepRenderer();
        for (int i = 0; i < data.getSeriesCount(); i++) {
            String engine = engines.get(engineIndex(data.getSeriesKey(i).toString(), engines));
            renderer.setSeriesPaint(i, COLOURS[engines.indexOf(engine) % COLOURS.length]);
            renderer.setSeriesStroke(i, cold.get(i) ? new BasicStroke(2.5f)
                    : new BasicStroke(2.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[]{8f, 5f}, 0f));
        }
        return save(name, title + ": solid cold, dashed warm", chart(title, new XYPlot(data, x, y, renderer)), dir);
    }

    /** Which engine a series belongs to: its label starts with the engine's readable name. */
    private static int engineIndex(String seriesKey, List<String> engines) {
        for (int i = 0; i < engines.size(); i++) {
            if (seriesKey.startsWith(Format.engine(engines.get(i)) + ",")) {
                return i;
            }
        }
        throw new IllegalStateException("no engine for series " + seriesKey);
    }

    /** The empirical CDF: the i-th smallest sample at (i+1)/n. Log axes cannot show 0, so those are left out. */
    static XYSeries cdf(String key, double[] samples) {
        double[] s = samples.clone();
        Arrays.sort(s);
        XYSeries series = new XYSeries(key, false, true);
        for (int i = 0; i < s.length; i++) {
            if (s[i] > 0) {
                series.add(s[i], (i + 1) / (double) s.length);
            }
        }
        return series;
    }

    static Figure throughput(RunResults run, String where, String scenario, Path dir) throws IOException {
        String name = "throughput-" + where + ".png";
        ScenarioResult r = run.scenario(scenario);
        if (r == null) {
            return notDrawn(name, "Warm calls per second against callers, " + where,
                    scenario + ": " + run.missing(scenario).line());
        }
        XYSeriesCollection data = new XYSeriesCollection();
        List<String> engines = new ArrayList<>();
        for (String engine : r.engines()) {
            XYSeries series = new XYSeries(Format.engine(engine), true, false);
            r.throughput().stream().filter(t -> t.engine().equals(engine))
                    .forEach(t -> series.add(t.callers(), t.callsPerSecond()));
            if (series.getItemCount() > 0) {
                data.addSeries(series);
                engines.add(engine);
            }
        }
        String title = title("Warm calls per second against callers", r.where(), engines);
        if (data.getSeriesCount() == 0) {
            return notDrawn(name, title, scenario + ".json has no throughput rows");
        }
        LogAxis x = new LogAxis("concurrent callers (log scale)");
        x.setBase(2);
        x.setTickUnit(new NumberTickUnit(1));
        x.setNumberFormatOverride(new DecimalFormat("0"));
        x.setSmallestValue(0.5);
        NumberAxis y = new NumberAxis("warm calls per second");
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesPaint(i, COLOURS[i % COLOURS.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2.5f));
        }
        return save(name, title, chart(title, new XYPlot(data, x, y, renderer)), dir);
    }

    static Figure memory(RunResults run, Path dir) throws IOException {
        String name = "memory.png";
        String title = "Private memory per idle instance (smaps), by engine and place";
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        List<String> missing = new ArrayList<>();
        for (String scenario : List.of("density", "path-lab")) {
            ScenarioResult r = run.scenario(scenario);
            if (r == null) {
                missing.add(scenario + ": " + run.missing(scenario).line());
                continue;
            }
            if (r.memory().isEmpty()) {
                missing.add(scenario + ".json has no memory rows");
            }
            for (String engine : ScenarioTables.memoryEngines(r)) {
                List<ScenarioResult.Memory> rows = ScenarioTables.memoryOf(r, engine);
                String category = Format.engine(engine) + ", " + r.where() + " (" + scenario + ", n=" + rows.size() + ")";
                data.addValue(ScenarioTables.meanPrivate(r, engine), "mean", category);
                data.addValue(rows.stream().mapToDouble(ScenarioResult.Memory::privateMib).max().orElseThrow(),
                        "largest instance", category);
            }
        }
        if (data.getColumnCount() == 0) {
            return notDrawn(name, title, String.join("; ", missing));
        }
        CategoryAxis x = new CategoryAxis("engine, place (scenario, idle instances)");
        x.setCategoryLabelPositions(CategoryLabelPositions.STANDARD);
        x.setMaximumCategoryLabelLines(3);
        NumberAxis y = new NumberAxis("private MiB per idle instance");
        BarRenderer renderer = new BarRenderer();
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setMaximumBarWidth(0.15); // one engine alone would otherwise fill the plot
        renderer.setSeriesPaint(0, COLOURS[0]);
        renderer.setSeriesPaint(1, COLOURS[4]);
        String caption = title + (missing.isEmpty() ? "" : " (" + String.join("; ", missing) + ")");
        return save(name, caption, chart(title, new CategoryPlot(data, x, y, renderer)), dir);
    }

    private static JFreeChart chart(String title, org.jfree.chart.plot.Plot plot) {
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        plot.setBackgroundPaint(Color.WHITE);
        if (plot instanceof XYPlot xy) {
            xy.setDomainGridlinePaint(Color.LIGHT_GRAY);
            xy.setRangeGridlinePaint(Color.LIGHT_GRAY);
        } else if (plot instanceof CategoryPlot c) {
            c.setRangeGridlinePaint(Color.LIGHT_GRAY);
        }
        return chart;
    }

    private static Figure save(String name, String caption, JFreeChart chart, Path dir) throws IOException {
        Path file = dir.resolve(name);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, HEIGHT);
        return new Figure(name, caption, file, null);
    }

    private static Figure notDrawn(String name, String caption, String why) {
        return new Figure(name, caption, null, why);
    }
}

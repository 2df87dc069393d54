package io.kiln.bench.report;

import java.util.function.Function;

/**
 * One promise a scenario checks: what it says, in words and numbers, where it comes from, and
 * how one scenario's result decides it. The check sees only that scenario's result, so a ratio
 * is always between engines measured side by side in the same run and the same place.
 */
public record Goal(String scenario, String statement, String source, Function<ScenarioResult, Verdict> check) {

    /** The verdict on a run: not run or FAILED when the scenario left no result. */
    public Verdict judge(RunResults run) {
        ScenarioResult result = run.scenario(scenario);
        if (result == null) {
            return run.missing(scenario);
        }
        return check.apply(result);
    }
}

package io.kiln.bench.report;

/** Whether a run met one goal, and the measured value that says so. */
public record Verdict(Status status, String detail) {

    public enum Status {
        MET("met"), NOT_MET("NOT met"), NOT_MEASURED("not measured"), NOT_RUN("not run"), FAILED("FAILED");

        final String words;

        Status(String words) {
            this.words = words;
        }
    }

    static Verdict met(boolean met, String detail) {
        return new Verdict(met ? Status.MET : Status.NOT_MET, detail);
    }

    static Verdict notMeasured(String why) {
        return new Verdict(Status.NOT_MEASURED, why);
    }

    static Verdict notRun(String why) {
        return new Verdict(Status.NOT_RUN, why);
    }

    static Verdict failed(String why) {
        return new Verdict(Status.FAILED, why);
    }

    /** "**met**: 19.0x (...)", as the report prints it. */
    public String line() {
        String words = status == Status.MET || status == Status.NOT_MET || status == Status.FAILED ? "**" + status.words + "**" : status.words;
        return words + ": " + detail;
    }
}

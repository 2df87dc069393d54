package io.kiln.cli;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Shows an upload: on a terminal a bar redrawn in place (at most every 100 ms), otherwise one
 * plain line when it starts. It counts the bytes the HTTP client reads from the file, which runs
 * ahead of the network by no more than the client's buffers.
 */
public final class UploadProgress {

    private static final long REDRAW_NANOS = 100_000_000L;
    private static final int BAR = 30;

    private final PrintStream err;
    private final boolean tty;
    private final String what;
    private final long total;
    private long sent;
    private long lastDraw;
    private boolean finished;

    public UploadProgress(PrintStream err, boolean tty, String what, long total) {
        this.err = err;
        this.tty = tty;
        this.what = what;
        this.total = total;
    }

    public synchronized void start() {
        if (tty) {
            draw();
        } else {
            err.println("Uploading " + what + " (" + Format.bytes(total) + ")");
        }
    }

    /** {@code in}, counting what is read from it. */
    public InputStream wrap(InputStream in) {
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    advance(1);
                }
                return b;
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                int n = super.read(buf, off, len);
                if (n > 0) {
                    advance(n);
                }
                return n;
            }
        };
    }

    synchronized void advance(long n) {
        sent += n;
        if (finished || !tty) {
            return;
        }
        long now = System.nanoTime();
        if (now - lastDraw >= REDRAW_NANOS || sent >= total) {
            draw();
        }
    }

    /** The upload is over (or the server has started answering): the bar's line is closed. */
    public synchronized void finish() {
        if (finished) {
            return;
        }
        finished = true;
        if (tty) {
            draw();
            err.println();
        }
    }

    private void draw() {
        lastDraw = System.nanoTime();
        err.print("\r" + bar(sent, total, what) + "\u001b[K");
        err.flush();
    }

    /** {@code Uploading hello.jar  [###########-------------------]  37%  1.1 MiB of 3.0 MiB}. */
    static String bar(long sent, long total, String what) {
        double f = total <= 0 ? 1 : Math.min(1, (double) sent / total);
        int full = (int) Math.round(f * BAR);
        return String.format(Locale.ROOT, "Uploading %s  [%s%s] %3d%%  %s of %s", what, "#".repeat(full),
                "-".repeat(BAR - full), Math.round(f * 100), Format.bytes(Math.min(sent, total)), Format.bytes(total));
    }
}

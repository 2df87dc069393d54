package io.kiln.microvm.qemu;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Copies guest memory files without writing their zero pages, so the copy stays sparse. */
final class SparseFiles {

    private static final int BLOCK = 64 * 1024;

    private SparseFiles() {
    }

    /** Copies {@code from} to a new file {@code to}; all-zero 64 KiB blocks become holes. */
    static void copy(Path from, Path to) throws IOException {
        try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(to, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long size = in.size();
            ByteBuffer buffer = ByteBuffer.allocateDirect(BLOCK);
            for (long position = 0; position < size; position += BLOCK) {
                buffer.clear();
                while (buffer.hasRemaining() && in.read(buffer, position + buffer.position()) > 0) {
                    // read the whole block
                }
                buffer.flip();
                if (!isZero(buffer)) {
                    while (buffer.hasRemaining()) {
                        out.write(buffer, position + buffer.position());
                    }
                }
            }
            // Trailing holes were never written; one byte at the end gives the copy its full length.
            if (out.size() < size) {
                out.write(ByteBuffer.wrap(new byte[1]), size - 1);
            }
        }
    }

    private static boolean isZero(ByteBuffer buffer) {
        int i = buffer.position();
        int end = buffer.limit();
        for (; i + 8 <= end; i += 8) {
            if (buffer.getLong(i) != 0) {
                return false;
            }
        }
        for (; i < end; i++) {
            if (buffer.get(i) != 0) {
                return false;
            }
        }
        return true;
    }
}

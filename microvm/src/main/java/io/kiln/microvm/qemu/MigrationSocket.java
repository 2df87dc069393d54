package io.kiln.microvm.qemu;

import io.kiln.microvm.jail.VmGroup;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * QEMU's migration stream (a snapshot's device state) over a Unix socket in the guest's work
 * directory, the host writing or reading the file. QEMU never opens the snapshot's files itself
 * and never runs a shell ({@code exec:} URIs would need fork and exec, which a jailed QEMU's
 * seccomp sandbox denies, and /bin/sh).
 */
final class MigrationSocket {

    private MigrationSocket() {
    }

    /**
     * Listens on {@code socket} for one outgoing migration (QMP {@code migrate} to
     * {@code unix:<socket>}) and writes what arrives into {@code into}. With {@code owner}, the
     * socket is handed to that user first: a jailed QEMU runs as its group's uid and may only
     * connect to a socket it can write.
     */
    static Receiver receive(Path socket, Path into, VmGroup owner) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(socket));
            if (owner != null) {
                owner.own(socket);
            }
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        CompletableFuture<Long> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (server; SocketChannel in = server.accept();
                 FileChannel out = FileChannel.open(into, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                long total = 0;
                for (long n; (n = out.transferFrom(in, total, 1 << 20)) > 0; ) {
                    total += n;
                }
                out.force(true);
                done.complete(total);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        }, "kiln-qemu-migration-in");
        t.setDaemon(true);
        t.start();
        return new Receiver(server, socket, done);
    }

    /** A migration being received; {@link #close} stops waiting for one that never came. */
    record Receiver(ServerSocketChannel server, Path socket, CompletableFuture<Long> done) implements AutoCloseable {

        /** The bytes received, once QEMU has closed the stream. */
        long await(Duration timeout) throws IOException {
            try {
                return done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw new IOException("receiving the migration stream failed: " + e.getCause(), e.getCause());
            } catch (TimeoutException e) {
                throw new IOException("the migration stream did not end within " + timeout.toSeconds() + " s");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while receiving the migration stream", e);
            }
        }

        @Override
        public void close() throws IOException {
            server.close(); // ends a pending accept
            Files.deleteIfExists(socket);
        }
    }

    /** Streams {@code file} into a QEMU that listens on {@code socket} (QMP {@code migrate-incoming}). */
    static void send(Path file, Path socket) throws IOException {
        try (SocketChannel out = SocketChannel.open(UnixDomainSocketAddress.of(socket));
             FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = in.size();
            for (long sent = 0; sent < size; ) {
                sent += in.transferTo(sent, size - sent, out);
            }
            out.shutdownOutput();
        }
    }
}

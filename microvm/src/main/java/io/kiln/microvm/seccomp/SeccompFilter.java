package io.kiln.microvm.seccomp;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An allowlist seccomp filter for x86_64, compiled to classic BPF. The program:
 * <ol>
 *   <li>kills the process unless the syscall comes in through the x86_64 ABI (an i386 or x32
 *       syscall has other numbers, so a list checked against x86_64 numbers would mean nothing
 *       for it);</li>
 *   <li>for each rule in order: a syscall allowed outright, one answered with a fixed errno, or
 *       one allowed only when an argument's low 32 bits equal a value or have a bit set;</li>
 *   <li>everything else gets the default action.</li>
 * </ol>
 * Each rule is a compare that falls through to the next one, so no jump is ever longer than a
 * rule, whatever the list's length. Rules are tried in order: the callers put hot syscalls first.
 */
public final class SeccompFilter {
    public static final int AUDIT_ARCH_X86_64 = 0xc000003e;
    public static final int RET_KILL_PROCESS = 0x80000000;
    public static final int RET_ALLOW = 0x7fff0000;
    private static final int RET_ERRNO = 0x00050000;
    /** x32 syscalls are x86_64 numbers with this bit set. */
    private static final int X32_SYSCALL_BIT = 0x40000000;
    private static final int OFFSET_NR = 0;
    private static final int OFFSET_ARCH = 4;

    /** What one syscall's rule requires of an argument (its low 32 bits) to be allowed. */
    public sealed interface Condition {
        int arg();

        /** Allowed when the argument equals one of {@code values}. */
        record OneOf(int arg, List<Integer> values) implements Condition {
            public OneOf {
                values = List.copyOf(values);
            }
        }

        /** Allowed when the single bit {@code bit} is set in the argument. */
        record BitSet(int arg, int bit) implements Condition {
            public BitSet {
                if (Integer.bitCount(bit) != 1) {
                    throw new IllegalArgumentException("one bit, not 0x" + Integer.toHexString(bit));
                }
            }
        }
    }

    private sealed interface Rule {
        record Allow() implements Rule {
        }

        record Errno(int errno) implements Rule {
        }

        record AllowIf(Condition condition) implements Rule {
        }
    }

    private final Map<Integer, Rule> rules = new LinkedHashMap<>();
    private final int defaultAction;

    /** {@code defaultAction}: what an unlisted syscall gets, e.g. {@link #errno(int)} or {@link #RET_KILL_PROCESS}. */
    public SeccompFilter(int defaultAction) {
        this.defaultAction = defaultAction;
    }

    /** The action that fails a syscall with {@code errno} (the call returns -1 and sets errno). */
    public static int errno(int errno) {
        if (errno < 1 || errno > 4095) {
            throw new IllegalArgumentException("errno 1..4095, not " + errno);
        }
        return RET_ERRNO | errno;
    }

    public SeccompFilter allow(Syscall... syscalls) {
        for (Syscall s : syscalls) {
            put(s, new Rule.Allow());
        }
        return this;
    }

    public SeccompFilter allowIf(Syscall syscall, Condition condition) {
        if (condition.arg() < 0 || condition.arg() > 5) {
            throw new IllegalArgumentException("a syscall has arguments 0..5, not " + condition.arg());
        }
        if (condition instanceof Condition.OneOf o && (o.values().isEmpty() || o.values().size() > 200)) {
            throw new IllegalArgumentException("1..200 values, not " + o.values().size());
        }
        put(syscall, new Rule.AllowIf(condition));
        return this;
    }

    public SeccompFilter fail(Syscall syscall, int errno) {
        put(syscall, new Rule.Errno(errno(errno) & 0xffff));
        return this;
    }

    private void put(Syscall s, Rule r) {
        if (rules.putIfAbsent(s.number(), r) != null) {
            throw new IllegalArgumentException(s + " has a rule already");
        }
    }

    /** The syscalls this filter allows, at least for some arguments. */
    public List<Syscall> allowed() {
        List<Syscall> out = new ArrayList<>();
        rules.forEach((nr, r) -> {
            if (!(r instanceof Rule.Errno)) {
                out.add(Syscall.byNumber(nr));
            }
        });
        return out;
    }

    public List<Bpf.Insn> program() {
        List<Bpf.Insn> p = new ArrayList<>();
        p.add(Bpf.load(OFFSET_ARCH));
        p.add(Bpf.jeq(AUDIT_ARCH_X86_64, 1, 0));
        p.add(Bpf.ret(RET_KILL_PROCESS));
        p.add(Bpf.load(OFFSET_NR));
        p.add(Bpf.jge(X32_SYSCALL_BIT, 0, 1));
        p.add(Bpf.ret(RET_KILL_PROCESS));
        for (Map.Entry<Integer, Rule> e : rules.entrySet()) {
            int nr = e.getKey();
            Rule r = e.getValue();
            if (r instanceof Rule.AllowIf c) {
                p.addAll(conditional(nr, c.condition()));
            } else {
                p.add(Bpf.jeq(nr, 0, 1));
                p.add(Bpf.ret(r instanceof Rule.Errno err ? RET_ERRNO | err.errno() : RET_ALLOW));
            }
        }
        p.add(Bpf.ret(defaultAction));
        return p;
    }

    /**
     * {@code nr == syscall ? (arg ok ? ALLOW : default) : next rule}. The argument's low word is
     * loaded over the accumulator, which is why a failed match returns at once rather than
     * falling through to rules that expect the syscall number there.
     */
    private List<Bpf.Insn> conditional(int nr, Condition c) {
        List<Bpf.Insn> body = new ArrayList<>();
        body.add(Bpf.load(16 + 8 * c.arg()));
        if (c instanceof Condition.OneOf o) {
            List<Integer> values = o.values();
            for (int i = 0; i < values.size(); i++) {
                int remaining = values.size() - 1 - i;
                // Match: jump over the remaining compares and the default return, to ALLOW.
                body.add(Bpf.jeq(values.get(i), remaining + 1, 0));
            }
        } else if (c instanceof Condition.BitSet b) {
            body.add(Bpf.jset(b.bit(), 1, 0));
        }
        body.add(Bpf.ret(defaultAction));
        body.add(Bpf.ret(RET_ALLOW));
        List<Bpf.Insn> p = new ArrayList<>();
        p.add(Bpf.jeq(nr, 0, body.size()));
        p.addAll(body);
        return p;
    }

    @Override
    public String toString() {
        return "seccomp filter: " + rules.size() + " rules, default 0x" + Integer.toHexString(defaultAction);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SeccompFilter f && f.rules.equals(rules) && f.defaultAction == defaultAction;
    }

    @Override
    public int hashCode() {
        return Objects.hash(rules, defaultAction);
    }
}

package io.kiln.cli;

/** The {@code kiln} command's entry point (bin/kiln runs cli/target/kiln-cli.jar). */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(Kiln.run(CliEnv.system(), args));
    }
}

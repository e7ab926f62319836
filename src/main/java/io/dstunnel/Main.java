// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel;

import io.dstunnel.config.Version;
import io.dstunnel.logging.LogFormat;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The command line (cli-and-config.md): the proxy with {@code -conf FILE} or the embedded
 * default, {@code server -port N [-name NAME] [-http M]}, {@code demo}, {@code hash-password},
 * {@code check [-conf FILE]} and {@code version}. Exit status 2 for bad usage
 * or an invalid config, with one line naming the problem. Parses and dispatches only; the
 * {@link Launcher} starts what was asked for.
 */
public final class Main {

  private static final String USAGE = String.join("\n",
      "usage: java -jar dstunnel.jar [-conf FILE]          the proxy (embedded default config without -conf)",
      "       java -jar dstunnel.jar server -port N [-name NAME] [-http M]   a demo DataSnap-style server (-http: its REST side on port M)",
      "       java -jar dstunnel.jar demo                    the failover walk-through in one process",
      "       java -jar dstunnel.jar hash-password           prints a passwordHash for the password on stdin",
      "       java -jar dstunnel.jar check [-conf FILE]      validates the config (exit 0, or 2 with the key named)",
      "       java -jar dstunnel.jar version                 prints the version");

  private Main() {
  }

  public static void main(String[] args) {
    List<String> list = Arrays.asList(args);
    if (!list.isEmpty() && list.get(0).equals("demo")) {
      System.setProperty("dstunnel.events.level", "DEBUG");
      System.setProperty(LogFormat.PROPERTY, "TEXT");
    }
    try {
      LogFormat.fromProperty();
    } catch (IllegalArgumentException e) {
      System.err.println("dstunnel: " + e.getMessage());
      System.exit(2);
    }
    int status;
    try {
      status = run(list);
    } catch (UsageException e) {
      System.err.println("dstunnel: " + e.getMessage());
      System.err.println(USAGE);
      status = 2;
    }
    if (status >= 0) {
      System.exit(status);
    }
  }

  /** Runs a command; a negative result means it keeps running (a server) until SIGTERM. */
  static int run(List<String> args) {
    if (args.isEmpty()) {
      return Launcher.proxy(null);
    }
    switch (args.get(0)) {
      case "-conf", "--conf" -> {
        if (args.size() != 2) {
          throw new UsageException("-conf takes exactly one FILE");
        }
        return Launcher.proxy(Path.of(args.get(1)));
      }
      case "server" -> {
        return server(args.subList(1, args.size()));
      }
      case "demo" -> {
        if (args.size() != 1) {
          throw new UsageException("demo takes no arguments");
        }
        return Launcher.demo();
      }
      case "hash-password" -> {
        if (args.size() != 1) {
          throw new UsageException("hash-password reads the password from standard input and takes no arguments");
        }
        return Launcher.hashPassword();
      }
      case "check" -> {
        if (args.size() == 1) {
          return Launcher.check(null);
        }
        if (args.size() != 3 || !args.get(1).equals("-conf") && !args.get(1).equals("--conf")) {
          throw new UsageException("check takes -conf FILE (or nothing: the embedded default)");
        }
        return Launcher.check(Path.of(args.get(2)));
      }
      case "version", "--version", "-version" -> {
        if (args.size() != 1) {
          throw new UsageException("version takes no arguments");
        }
        System.out.println("dstunnel " + Version.current());
        return 0;
      }
      case "-h", "--help", "help" -> {
        System.out.println(USAGE);
        return 0;
      }
      default -> throw new UsageException("unknown command " + args.get(0));
    }
  }

  private static int server(List<String> args) {
    int port = -1;
    int http = -1;
    String name = null;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (i + 1 >= args.size()) {
        throw new UsageException(a + " needs a value");
      }
      switch (a) {
        case "-port" -> {
          try {
            port = Integer.parseInt(args.get(++i));
          } catch (NumberFormatException e) {
            throw new UsageException("-port must be a number");
          }
        }
        case "-name" -> name = args.get(++i);
        case "-http" -> {
          try {
            http = Integer.parseInt(args.get(++i));
          } catch (NumberFormatException e) {
            throw new UsageException("-http must be a number");
          }
          if (http < 0 || http > 65535) {
            throw new UsageException("-http must be a port (0 to 65535)");
          }
        }
        default -> throw new UsageException("unknown option " + a);
      }
    }
    if (port < 0 || port > 65535) {
      throw new UsageException("server needs -port N (0 to 65535)");
    }
    return Launcher.server(port, name, http);
  }

  private static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message);
    }
  }
}

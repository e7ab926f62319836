// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel;

import io.vertx.core.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a server started from the command line ends: on SIGTERM (and SIGINT) it stops gracefully
 * and exits 0; a second signal exits at once; the process halts only once the log has reached the
 * console.
 */
final class Termination {

  private Termination() {
  }

  /**
   * On SIGTERM (and SIGINT, Ctrl-C), run {@code stop} and exit 0. A second signal while it runs
   * exits at once (status 128 + the signal's number), as an operator pressing Ctrl-C twice means.
   */
  @SuppressWarnings("restriction")
  static void onTerminate(Supplier<Future<Void>> stop) {
    Logger log = LoggerFactory.getLogger(Launcher.class);
    AtomicBoolean stopping = new AtomicBoolean();
    sun.misc.SignalHandler handler = sig -> {
      if (!stopping.compareAndSet(false, true)) {
        log.warn("SIG{} again: exiting now, without waiting for the drain", sig.getName());
        exit(128 + sig.getNumber());
        return;
      }
      log.info("SIG{} received: stopping gracefully (send it again to exit at once)", sig.getName());
      try {
        stop.get().await(1, TimeUnit.HOURS);
      } catch (Exception ignored) {
        // exiting anyway
      }
      log.info("stopped: exiting 0");
      exit(0);
    };
    sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
    sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
  }

  /** Ends the process with {@code status} once the log, which goes through a queue, reached the console. */
  private static void exit(int status) {
    if (LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext logback) {
      logback.stop();
    }
    Runtime.getRuntime().halt(status);
  }
}

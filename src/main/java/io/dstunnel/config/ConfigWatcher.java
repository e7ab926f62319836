// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the JSON config file through a {@link ConfigRetriever} and keeps watching it: a valid new
 * version is handed to the listener, an invalid one is logged (naming the key) and ignored, so a
 * typo never takes a running proxy down.
 */
public final class ConfigWatcher {

  private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);

  /** How often the file is looked at. */
  public static final long DEFAULT_SCAN_MS = 1000;

  private final ConfigRetriever retriever;
  private final java.util.concurrent.atomic.AtomicLong rejected = new java.util.concurrent.atomic.AtomicLong();

  public ConfigWatcher(Vertx vertx, Path file, long scanMs) {
    this.retriever = ConfigRetriever.create(vertx, new ConfigRetrieverOptions()
        .setIncludeDefaultStores(false)
        .setScanPeriod(scanMs)
        .addStore(new ConfigStoreOptions().setType("file").setFormat("json")
            .setConfig(new JsonObject().put("path", file.toString()))));
  }

  /** The config as it is now; a syntax or validation error fails with a {@link ConfigException}. */
  public Future<ProxyConfig> current() {
    return retriever.getConfig()
        .recover(err -> Future.failedFuture(ProxyConfig.syntaxError(err)))
        .map(json -> ProxyConfig.fromJson(EnvironmentOverrides.apply(json, System.getenv())));
  }

  /** Calls {@code onValid} with every valid new version of the file. */
  public void listen(Consumer<ProxyConfig> onValid) {
    // A file that does not parse fails every scan: each error said once (vertx-config's own line,
    // which quotes the file's text, is off in logback.xml), again once the file has changed between.
    java.util.concurrent.atomic.AtomicReference<String> lastError = new java.util.concurrent.atomic.AtomicReference<>();
    retriever.configStream().exceptionHandler(err -> {
      String said = ProxyConfig.syntaxError(err).getMessage();
      if (!said.equals(lastError.getAndSet(said))) {
        rejected.incrementAndGet();
        LOG.error("config change ignored: {}", said);
      }
    });
    retriever.listen(change -> {
      lastError.set(null);
      try {
        onValid.accept(ProxyConfig.fromJson(EnvironmentOverrides.apply(change.getNewConfiguration(), System.getenv())));
        LOG.info("config reloaded");
      } catch (ConfigException e) {
        rejected.incrementAndGet();
        LOG.error("config change ignored: {}", e.getMessage());
      }
    });
  }

  /** How many changed versions of the file were invalid and ignored. */
  public long rejected() {
    return rejected.get();
  }

  public void close() {
    retriever.close();
  }
}

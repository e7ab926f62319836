// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dstunnel.config.ProxyConfig;
import io.dstunnel.support.ClusterNodes;
import io.dstunnel.support.ProxyProcess;
import io.dstunnel.support.Proxies;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The cluster manager dstunnel sets up ({@link ClusterSetup}), in this JVM. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterSetupIT {

  /**
   * After a merge a node publishes its address and subscriptions again; that waits for the
   * cluster manager's lock, which vertx-infinispan holds through a whole view change, its cache
   * writes included. It waits on a worker, never on an event loop. Before, it waited on an event
   * loop: CI saw a node's loop stalled for 14 s after a merge, and a failover through it end in 404.
   */
  @Test
  void publishingAgainAfterAMergeWaitsForTheClusterManagerOnAWorkerNotAnEventLoop() throws Exception {
    int port = ProxyProcess.freePort();
    JsonObject config = Proxies.config().json().put("backends", new JsonArray().add(new JsonObject()
        .put("name", "unused").put("port", 1))).put("cluster", new JsonObject().put("enabled", true)
        .put("name", "setup-" + ProcessHandle.current().pid() + "-" + System.nanoTime()).put("host", "127.0.0.1")
        .put("port", port).put("members", new JsonArray().add("127.0.0.1:" + port)).put("secret", ClusterNodes.SECRET));
    Vertx vertx = ClusterSetup.vertx(Vertx.builder(), new VertxOptions(), ProxyConfig.fromJson(config).cluster()).await();
    CountDownLatch release = new CountDownLatch(1);
    try {
      MergingClusterManager manager = (MergingClusterManager) ((VertxInternal) vertx).clusterManager();
      // A view change under way: another thread holds the lock, as Infinispan's listener thread does.
      CountDownLatch held = new CountDownLatch(1);
      Thread viewChange = new Thread(() -> {
        synchronized (manager) {
          held.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }, "test-view-change");
      viewChange.start();
      held.await();
      manager.new MergeListener().merged(null);
      await().atMost(Duration.ofSeconds(30)).until(() -> blockedOn(manager).stream()
          .anyMatch(t -> t.startsWith("vert.x-worker-thread")));
      assertThat(blockedOn(manager)).noneMatch(t -> t.startsWith("vert.x-eventloop-thread"));
    } finally {
      release.countDown();
      vertx.close().await();
    }
  }

  /** The threads waiting for {@code lock}'s monitor now. */
  private static List<String> blockedOn(Object lock) {
    int id = System.identityHashCode(lock);
    return Arrays.stream(ManagementFactory.getThreadMXBean().dumpAllThreads(true, false))
        .filter(t -> t.getThreadState() == Thread.State.BLOCKED && t.getLockInfo() != null
            && t.getLockInfo().getIdentityHashCode() == id)
        .map(ThreadInfo::getThreadName)
        .toList();
  }
}

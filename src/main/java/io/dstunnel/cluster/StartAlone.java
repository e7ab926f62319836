// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.config.ClusterConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.infinispan.manager.DefaultCacheManager;
import org.infinispan.notifications.Listener;
import org.infinispan.notifications.cachemanagerlistener.annotation.Merged;
import org.infinispan.notifications.cachemanagerlistener.annotation.ViewChanged;
import org.infinispan.notifications.cachemanagerlistener.event.ViewChangedEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node that finds itself alone at start while another member it lists answers on its member
 * port has formed a cluster of its own beside the running one (a restart whose discovery missed
 * the others): serving now, it would answer 404 to every session of the cluster that a front
 * sends it. It waits for the merge first (MERGE3 runs every 2–6 s), at most {@link #WAIT_MS}.
 * A node whose listed members do not answer (the first of a cluster) starts at once.
 */
final class StartAlone {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterSetup.class);
  /** The longest wait for the merge: three of MERGE3's longest rounds. */
  static final long WAIT_MS = 18_000;

  private StartAlone() {
  }

  /** Blocks (before Vert.x runs) until {@code manager}'s view holds another member, if one answers. */
  static void awaitOthers(DefaultCacheManager manager, ClusterConfig c) throws InterruptedException {
    if (manager.getMembers().size() > 1 || c.kubernetesServiceDns() != null) {
      return;
    }
    String answering = firstAnswering(c);
    if (answering == null) {
      return;
    }
    CountDownLatch joined = new CountDownLatch(1);
    Object listener = new Joined(joined);
    manager.addListener(listener);
    try {
      if (manager.getMembers().size() > 1) {
        return;
      }
      LOG.info("dstunnel cluster: alone at start while member {} answers; waiting up to {} s for the two to merge "
          + "before serving", answering, WAIT_MS / 1000);
      if (!joined.await(WAIT_MS, TimeUnit.MILLISECONDS)) {
        LOG.warn("dstunnel cluster: still alone after {} s although member {} answers: serving alone", WAIT_MS / 1000,
            answering);
      }
    } finally {
      manager.removeListener(listener);
    }
  }

  /** The first listed member other than this node whose member port accepts a connection, or null. */
  private static String firstAnswering(ClusterConfig c) {
    List<String> others = new ArrayList<>();
    for (String m : c.members()) {
      int colon = m.lastIndexOf(':');
      String host = m.substring(0, colon);
      int port = Integer.parseInt(m.substring(colon + 1));
      boolean self = (host.equals(c.host()) && port == c.port()) || (host.equals(c.publicHost()) && port == c.publicPort());
      if (!self) {
        others.add(m);
      }
    }
    for (String m : others) {
      int colon = m.lastIndexOf(':');
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(m.substring(0, colon), Integer.parseInt(m.substring(colon + 1))), 1000);
        return m;
      } catch (IOException | IllegalArgumentException refused) {
        // not there (yet): the next one
      }
    }
    return null;
  }

  /** Counts {@code joined} down once the view holds more than this node. */
  @Listener
  public static final class Joined {
    private final CountDownLatch joined;

    Joined(CountDownLatch joined) {
      this.joined = joined;
    }

    @ViewChanged
    @Merged
    public void changed(ViewChangedEvent event) {
      if (event.getNewMembers().size() > 1) {
        joined.countDown();
      }
    }
  }
}

// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.support;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A network that can be cut: TCP relays put in front of ports (cluster members' member and
 * event-bus ports, advertised to the others as their public ports), each relay in a group (a
 * node). Cut, a group's relays pass nothing either way and connect nothing new: what arrives is
 * held (and counted), a new connection is accepted and left waiting. No connection is refused or
 * closed: to the nodes it is a timeout, not a death. Healed, what was held flows on, in order, as
 * TCP delivers after a partition heals. A group can also start refusing new connections (its
 * node died behind a cut: the old connections stay silent, new ones are refused).
 */
public final class Partition implements AutoCloseable {

  /** One relayed connection: its two sockets, and what waits while its group is cut. */
  private final class Link {
    final String group;
    final NetSocket client;
    final int target;
    boolean connecting;
    NetSocket upstream;
    final List<Buffer> toUpstream = new ArrayList<>();
    final List<Buffer> toClient = new ArrayList<>();
    boolean clientClosed;
    boolean upstreamClosed;

    Link(String group, NetSocket client, int target) {
      this.group = group;
      this.client = client;
      this.target = target;
    }

    void fromClient(Buffer b) {
      synchronized (Partition.this) {
        if (isCut(group) || upstream == null) {
          toUpstream.add(b);
          count(group, b.length());
        } else {
          upstream.write(b);
        }
      }
    }

    void fromUpstream(Buffer b) {
      synchronized (Partition.this) {
        if (isCut(group) || answersCut.contains(group)) {
          toClient.add(b);
          count(group, b.length());
        } else {
          client.write(b);
        }
      }
    }

    /** Passes on what waited (the group is whole again). */
    void flush() {
      if (upstream == null) {
        return;
      }
      toUpstream.forEach(b -> pass(upstream, b));
      toClient.forEach(b -> pass(client, b));
      toUpstream.clear();
      toClient.clear();
      if (clientClosed) {
        upstream.close();
      }
      if (upstreamClosed) {
        client.close();
      }
    }
  }

  private final Vertx vertx;
  private final NetClient upstreams;
  private final Map<String, List<NetServer>> servers = new HashMap<>();
  private final List<Link> links = new ArrayList<>();
  private final Set<String> cut = ConcurrentHashMap.newKeySet();
  /** Groups whose relays pass what their clients send but hold what comes back. */
  private final Set<String> answersCut = ConcurrentHashMap.newKeySet();
  private final Map<String, AtomicLong> held = new ConcurrentHashMap<>();
  /** Connections of each group's relays that their clients closed. */
  private final Map<String, AtomicLong> closedByClients = new ConcurrentHashMap<>();
  /** Bytes that waited, passed on at a heal and not yet written to their socket. */
  private final AtomicLong passing = new AtomicLong();

  public Partition(Vertx vertx) {
    this.vertx = vertx;
    this.upstreams = vertx.createNetClient();
  }

  /** A relay in group {@code group} to loopback port {@code target}: the port to give out instead. */
  public int relay(String group, int target) {
    NetServer server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0));
    server.connectHandler(client -> accept(group, client, target));
    server.listen().await();
    synchronized (this) {
      servers.computeIfAbsent(group, g -> new ArrayList<>()).add(server);
      held.computeIfAbsent(group, g -> new AtomicLong());
      held.computeIfAbsent(whole(group), g -> new AtomicLong());
    }
    return server.actualPort();
  }

  private void accept(String group, NetSocket client, int target) {
    Link link = new Link(group, client, target);
    synchronized (this) {
      links.add(link);
    }
    client.handler(link::fromClient);
    client.closeHandler(v -> {
      closedByClients.computeIfAbsent(group, g -> new AtomicLong()).incrementAndGet();
      synchronized (this) {
        if (isCut(group) || link.upstream == null) {
          link.clientClosed = true;
        } else {
          link.upstream.close();
        }
      }
    });
    synchronized (this) {
      if (!isCut(group)) {
        connect(link);
      }
    }
  }

  private void connect(Link link) {
    link.connecting = true;
    upstreams.connect(link.target, "127.0.0.1").onComplete(ar -> {
      if (ar.failed()) {
        link.client.close();
        return;
      }
      NetSocket up = ar.result();
      up.handler(link::fromUpstream);
      up.closeHandler(v -> {
        synchronized (this) {
          if (isCut(link.group) || answersCut.contains(link.group)) {
            link.upstreamClosed = true;
          } else {
            link.client.close();
          }
        }
      });
      synchronized (this) {
        link.upstream = up;
        if (!isCut(link.group)) {
          link.flush();
        }
      }
    });
  }

  /**
   * Nothing passes group {@code group}'s relays from now on, either way (every group: {@link #cut()}).
   * A group "g/part" is one part of group "g": cutting "g" cuts it too.
   */
  public synchronized void cut(String group) {
    cut.add(group);
  }

  /**
   * Group {@code group}'s relays go on passing what their clients send, and hold what comes back
   * (a client whose answers are lost on the way).
   */
  public synchronized void cutAnswers(String group) {
    answersCut.add(group);
  }

  /** Nothing passes any relay from now on, either way. */
  public synchronized void cut() {
    cut.addAll(servers.keySet());
  }

  /** Bytes group {@code group}'s relays (its parts' too) hold back since it was cut. */
  public long held(String group) {
    return held.get(group).get();
  }

  /** Group {@code group}'s relays (its parts' too) refuse new connections from now on (the old ones stay as they are). */
  public synchronized void refuse(String group) {
    servers.forEach((g, list) -> {
      if (whole(g).equals(group) || g.equals(group)) {
        list.forEach(NetServer::close);
      }
    });
  }

  /** What waited at group {@code group}'s relays flows on, as it was cut alone (see {@link #cut(String)}). */
  public synchronized void heal(String group) {
    cut.remove(group);
    answersCut.remove(group);
    for (Link link : links) {
      if (isCut(link.group) || answersCut.contains(link.group)) {
        continue;
      }
      if (link.upstream != null) {
        link.flush();
      } else if (!link.connecting) {
        connect(link);
      }
    }
    AtomicLong h = held.get(group);
    if (h != null) {
      h.set(0);
    }
  }

  /**
   * Connections to group {@code group}'s relays that their clients closed so far (a node's port
   * probe closes its connection once it has its answer).
   */
  public long closedByClients(String group) {
    AtomicLong n = closedByClients.get(group);
    return n == null ? 0 : n.get();
  }

  /**
   * Drops what group {@code group}'s relays hold from connections whose sender has since closed
   * them (a node that died behind the cut: what it sent is lost with it); how many such connections
   * held something.
   */
  public synchronized int dropFromClosed(String group) {
    int dropped = 0;
    for (Link link : links) {
      if (link.group.equals(group) && link.clientClosed && !link.toUpstream.isEmpty()) {
        link.toUpstream.clear();
        dropped++;
      }
    }
    return dropped;
  }

  /** Writes {@code b}, which waited, to {@code to}: counted in {@link #passing()} until the kernel has it. */
  private void pass(NetSocket to, Buffer b) {
    passing.addAndGet(b.length());
    to.write(b).onComplete(done -> passing.addAndGet(-b.length()));
  }

  /**
   * Bytes that waited at a cut, passed on by a heal, not yet written to their sockets (0: the
   * receiving processes' kernels have them, whether or not those processes run).
   */
  public long passing() {
    return passing.get();
  }

  /** Whether relays of group {@code group} are cut, alone or with the group they are a part of. */
  private boolean isCut(String group) {
    return cut.contains(group) || cut.contains(whole(group));
  }

  /** The group that group {@code group} is a part of ("g" for "g/part"), or itself. */
  private static String whole(String group) {
    int slash = group.indexOf('/');
    return slash < 0 ? group : group.substring(0, slash);
  }

  private void count(String group, int bytes) {
    held.get(group).addAndGet(bytes);
    if (!whole(group).equals(group)) {
      held.get(whole(group)).addAndGet(bytes);
    }
  }

  /** Everything that waited flows on, and new connections are made again. */
  public synchronized void heal() {
    cut.clear();
    answersCut.clear();
    for (Link link : links) {
      if (link.upstream != null) {
        link.flush();
      } else if (!link.connecting) {
        connect(link);
      }
    }
    held.values().forEach(h -> h.set(0));
  }

  @Override
  public synchronized void close() {
    for (Link link : links) {
      link.client.close();
      if (link.upstream != null) {
        link.upstream.close();
      }
    }
    servers.values().forEach(list -> list.forEach(NetServer::close));
    upstreams.close();
  }
}

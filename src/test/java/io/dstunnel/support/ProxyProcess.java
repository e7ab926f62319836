// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.support;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Stream;

/**
 * The proxy as a process of its own (the test's classpath, {@code io.dstunnel.Main -conf FILE}),
 * started with given JVM options, its output kept; {@link #close} kills it if it still runs.
 */
public final class ProxyProcess implements AutoCloseable {

  private final Process process;
  private final int port;
  private final int adminPort;
  private final ConcurrentLinkedQueue<String> output = new ConcurrentLinkedQueue<>();

  private ProxyProcess(Process process, int port, int adminPort) {
    this.process = process;
    this.port = port;
    this.adminPort = adminPort;
  }

  /** Starts a proxy with {@code config} (its http and admin ports set here) and waits until it listens. */
  public static ProxyProcess start(Path dir, JsonObject config, String... jvmOptions) throws IOException {
    ProxyProcess p = launch(dir, config, jvmOptions);
    p.awaitListening();
    return p;
  }

  /** Starts a proxy without waiting (nodes of a cluster start side by side); then {@link #awaitListening}. */
  public static ProxyProcess launch(Path dir, JsonObject config, String... jvmOptions) throws IOException {
    int port = freePort();
    int adminPort = freePort();
    config.getJsonObject("http").put("port", port);
    config.put("admin", config.getJsonObject("admin", new JsonObject()).put("port", adminPort));
    Path conf = dir.resolve("dstunnel-" + port + ".json");
    Files.writeString(conf, config.encode());
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of(jvmOptions));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "-Dlogback.configurationFile=logback.xml"));
    // Text lines, unless the test chooses the format itself (log.format, or the JVM property).
    if (!config.containsKey("log") && Stream.of(jvmOptions).noneMatch(o -> o.startsWith("-Ddstunnel.log.format="))) {
      command.add("-Ddstunnel.log.format=TEXT");
    }
    command.addAll(List.of("io.dstunnel.Main", "-conf", conf.toString()));
    return new ProxyProcess(new ProcessBuilder(command).redirectErrorStream(true).start(), port, adminPort);
  }

  /** Waits until the proxy prints that it listens (after joining its cluster, in cluster mode). */
  public void awaitListening() throws IOException {
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null) {
      output.add(line);
      if (line.contains("dstunnel listening on")) {
        Thread rest = new Thread(() -> {
          try {
            out.lines().forEach(output::add);
          } catch (UncheckedIOException ended) {
            // the process ended
          }
        }, "proxy-output");
        rest.setDaemon(true);
        rest.start();
        return;
      }
    }
    throw new IllegalStateException("the proxy exited before listening:\n" + String.join("\n", output));
  }

  /** Sends {@code signal} (STOP, CONT, KILL, TERM) to the process. */
  public void signal(String signal) throws IOException, InterruptedException {
    new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start().waitFor();
  }

  public static int freePort() throws IOException {
    // Below the kernel's ephemeral range (32768 and up by default): a port picked there can be
    // taken by any process's outgoing connection before the node binds it (CI saw a node's
    // http.port "already in use"). And never the same port twice in this JVM (CI saw a member
    // port handed out again as an admin port before the cluster manager had bound it).
    while (true) {
      int port = 20_000 + RANDOM.nextInt(12_000);
      if (HANDED_OUT.contains(port)) {
        continue;
      }
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress("127.0.0.1", port));
      } catch (IOException busy) {
        continue;
      }
      if (HANDED_OUT.add(port)) {
        return port;
      }
    }
  }

  private static final java.util.Random RANDOM = new java.util.Random();

  /** Every port {@link #freePort} gave in this JVM: none is given twice. */
  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

  public Process process() {
    return process;
  }

  public int port() {
    return port;
  }

  public int adminPort() {
    return adminPort;
  }

  /** Everything it printed so far. */
  public String output() {
    return String.join("\n", output);
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}

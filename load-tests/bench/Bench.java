import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A light closed-loop HTTP/1.1 load generator, the same for every target: N keep-alive connections,
 * one thread each, one request at a time, latency of every request recorded after the warm-up.
 *
 *   java Bench.java http   PORT CONNECTIONS SECONDS   GET / (HAProxy -> nginx)
 *   (PORT may be a comma-separated list: the connections are spread over them, in turn)
 *   java Bench.java tunnel PORT CONNECTIONS SECONDS   one tunnel session per connection: PUT an
 *                                                       EchoString execute, GET its answer, repeat
 *
 * Prints one line: requests/s and request p50/p99/p99.9 in ms (and, for the tunnel, calls/s and call
 * p50/p99/p99.9); given the proxy's pid, also its CPU time (utime + stime from /proc) per request
 * over the measured window.
 */
public final class Bench {

  /** Seconds run before measuring ({@code -Dwarmup=N}; a cluster of three JVMs on two cores compiles for a minute). */
  private static final int WARMUP_SECONDS = Integer.getInteger("warmup", 3);
  private static final Pattern LENGTH = Pattern.compile("(?i)\r\ncontent-length: *(\\d+)");
  private static final String AUTH = "Authorization: Basic "
      + Base64.getEncoder().encodeToString("admin:admin".getBytes(StandardCharsets.UTF_8)) + "\r\n";

  /** One keep-alive connection. */
  private static final class Http {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private final byte[] buf = new byte[65536];

    Http(int port) throws IOException {
      socket = new Socket("127.0.0.1", port);
      socket.setTcpNoDelay(true);
      out = socket.getOutputStream();
      in = socket.getInputStream();
    }

    /** Sends a request, returns the status line's code and the body. */
    String exchange(String method, String uri, byte[] body) throws IOException {
      StringBuilder head = new StringBuilder(method).append(' ').append(uri).append(" HTTP/1.1\r\nHost: bench\r\n")
          .append(AUTH);
      if (body != null) {
        head.append("Content-Length: ").append(body.length).append("\r\n");
      }
      head.append("\r\n");
      ByteArrayOutputStream req = new ByteArrayOutputStream();
      req.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      if (body != null) {
        req.writeBytes(body);
      }
      out.write(req.toByteArray());
      out.flush();
      int got = 0;
      int headerEnd;
      while (true) {
        int n = in.read(buf, got, buf.length - got);
        if (n < 0) {
          throw new IOException("connection closed");
        }
        got += n;
        headerEnd = indexOf(buf, got);
        if (headerEnd >= 0) {
          break;
        }
      }
      String headers = new String(buf, 0, headerEnd, StandardCharsets.ISO_8859_1);
      Matcher m = LENGTH.matcher(headers);
      int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
      int bodyStart = headerEnd + 4;
      while (got < bodyStart + length) {
        int n = in.read(buf, got, buf.length - got);
        if (n < 0) {
          throw new IOException("connection closed");
        }
        got += n;
      }
      if (!headers.startsWith("HTTP/1.1 200")) {
        throw new IOException("answer: " + headers.lines().findFirst().orElse(""));
      }
      return new String(buf, bodyStart, length, StandardCharsets.ISO_8859_1);
    }

    private static int indexOf(byte[] b, int len) {
      for (int i = 3; i < len; i++) {
        if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') {
          return i - 3;
        }
      }
      return -1;
    }
  }

  /** Latencies in nanoseconds, one recorder per thread. */
  private static final class Recorder {
    long[] values = new long[1 << 16];
    int size;

    void add(long v) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = v;
    }
  }

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    // PORT may list several (a cluster's nodes, comma-separated): connection c goes to the c-th, round.
    int[] ports = Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray();
    int connections = Integer.parseInt(args[2]);
    int seconds = Integer.parseInt(args[3]);
    // The proxy's process (optional): its CPU time over the measured window, per request.
    // (Several, comma-separated: the CPU time of all of them.)
    long[] pids = args.length > 4 ? Arrays.stream(args[4].split(",")).mapToLong(Long::parseLong).toArray() : new long[0];
    long proxyPid = pids.length > 0 ? pids[0] : -1;
    long start = System.nanoTime();
    long measureFrom = start + WARMUP_SECONDS * 1_000_000_000L;
    long end = measureFrom + seconds * 1_000_000_000L;
    List<Recorder> requests = new ArrayList<>();
    List<Recorder> calls = new ArrayList<>();
    CountDownLatch done = new CountDownLatch(connections);
    List<Throwable> errors = new ArrayList<>();
    for (int c = 0; c < connections; c++) {
      Recorder r = new Recorder();
      Recorder k = new Recorder();
      int port = ports[c % ports.length];
      requests.add(r);
      calls.add(k);
      Thread t = new Thread(() -> {
        try {
          Http http = new Http(port);
          if (mode.equals("http")) {
            while (System.nanoTime() < end) {
              long t0 = System.nanoTime();
              http.exchange("GET", "/", null);
              long t1 = System.nanoTime();
              if (t0 >= measureFrom) {
                r.add(t1 - t0);
              }
            }
          } else {
            String sid = open(http);
            String prefix = "/datasnap/tunnel?dss=" + sid;
            for (int i = 0; System.nanoTime() < end; i++) {
              byte[] call = ("{\"method\":\"execute\",\"params\":[1,[\"call " + i + "\"]]}")
                  .getBytes(StandardCharsets.UTF_8);
              long t0 = System.nanoTime();
              http.exchange("PUT", prefix + "&c=" + call.length, call);
              long t1 = System.nanoTime();
              String answer = http.exchange("GET", prefix + "&c=32768", null);
              long t2 = System.nanoTime();
              if (!answer.startsWith("{\"result\":[\"call " + i + " (")) {
                throw new IOException("wrong answer " + answer);
              }
              if (t0 >= measureFrom) {
                r.add(t1 - t0);
                r.add(t2 - t1);
                k.add(t2 - t0);
              }
            }
          }
        } catch (Throwable e) {
          synchronized (errors) {
            errors.add(e);
          }
        } finally {
          done.countDown();
        }
      });
      t.setDaemon(true);
      t.start();
    }
    long[] cpu = {-1, -1};
    Thread cpuWatch = null;
    if (proxyPid > 0) {
      cpuWatch = new Thread(() -> {
        try {
          Thread.sleep(Math.max(0, (measureFrom - System.nanoTime()) / 1_000_000));
          cpu[0] = cpuTicks(pids);
          Thread.sleep(Math.max(0, (end - System.nanoTime()) / 1_000_000));
          cpu[1] = cpuTicks(pids);
        } catch (InterruptedException | IOException e) {
          cpu[0] = -1;
        }
      });
      cpuWatch.setDaemon(true);
      cpuWatch.start();
    }
    done.await();
    if (cpuWatch != null) {
      cpuWatch.join();
    }
    if (!errors.isEmpty()) {
      System.out.println("errors: " + errors.size() + ", first: " + errors.get(0));
      System.exit(1);
    }
    long[] all = merge(requests);
    StringBuilder line = new StringBuilder(String.format(
        "%s %d connections: %.0f requests/s, p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms",
        mode, connections, all.length / (double) seconds, pct(all, 50), pct(all, 99), pct(all, 99.9)));
    if (cpu[0] >= 0 && cpu[1] >= 0) {
      long ticksPerSecond = Long.parseLong(System.getenv().getOrDefault("CLK_TCK", "100"));
      line.append(String.format(", cpu %.1f us/request", (cpu[1] - cpu[0]) * 1e6 / ticksPerSecond / all.length));
    }
    if (mode.equals("tunnel")) {
      long[] k = merge(calls);
      line.append(String.format("; %.0f calls/s, call p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms",
          k.length / (double) seconds, pct(k, 50), pct(k, 99), pct(k, 99.9)));
    }
    System.out.println(line);
  }

  private static String open(Http http) throws IOException {
    String opened = http.exchange("PUT", "/datasnap/tunnel?dss=0&c=5", new byte[] {5, 5, 5, 5, 5});
    String sid = opened.substring(opened.indexOf("[\"") + 2, opened.indexOf("\","));
    String prefix = "/datasnap/tunnel?dss=" + sid;
    http.exchange("GET", prefix + "&c=32768", null);
    for (String m : new String[] {"{\"method\":\"connect\",\"params\":[{\"DriverName\":\"Datasnap\"}]}",
        "{\"method\":\"prepare\",\"params\":[-1,false,\"DSServerMethod\",\"TServerMethods1.EchoString\"]}"}) {
      byte[] b = m.getBytes(StandardCharsets.UTF_8);
      http.exchange("PUT", prefix + "&c=" + b.length, b);
      http.exchange("GET", prefix + "&c=32768", null);
    }
    return sid;
  }

  private static long[] merge(List<Recorder> recorders) {
    int n = recorders.stream().mapToInt(r -> r.size).sum();
    long[] all = new long[n];
    int at = 0;
    for (Recorder r : recorders) {
      System.arraycopy(r.values, 0, all, at, r.size);
      at += r.size;
    }
    Arrays.sort(all);
    return all;
  }

  /** utime + stime of process {@code pid}, in clock ticks (fields 14 and 15 of /proc/PID/stat). */
  private static long cpuTicks(long[] pids) throws IOException {
    long ticks = 0;
    for (long pid : pids) {
      String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
    return ticks;
  }

  private static double pct(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(sorted.length * p / 100.0) - 1)] / 1e6;
  }
}

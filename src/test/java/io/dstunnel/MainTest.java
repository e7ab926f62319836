// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's refusals: exit status 2 and one line that names the problem. */
class MainTest {

  private static String[] runCapturingStderr(List<String> args, int[] status) {
    PrintStream old = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      status[0] = Main.run(args);
    } catch (RuntimeException e) {
      status[0] = -99;
      System.err.println(e.getMessage());
    } finally {
      System.setErr(old);
    }
    return err.toString(StandardCharsets.UTF_8).split("\n");
  }

  @Test
  void invalidConfigExitsWith2NamingTheKey(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("bad.json");
    Files.writeString(conf, "{\"http\":{\"port\":70000},\"backends\":[{\"port\":211}]}");
    int[] status = {0};
    String[] lines = runCapturingStderr(List.of("-conf", conf.toString()), status);
    assertThat(status[0]).isEqualTo(2);
    assertThat(lines).hasSize(1);
    assertThat(lines[0]).contains("http.port").contains("70000");
  }

  @Test
  void configThatIsNotJsonExitsWith2(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("bad.json");
    Files.writeString(conf, "{ not json");
    int[] status = {0};
    String[] lines = runCapturingStderr(List.of("-conf", conf.toString()), status);
    assertThat(status[0]).isEqualTo(2);
    assertThat(lines[0]).contains("not a valid JSON object");
  }

  @Test
  void missingConfigFileExitsWith2(@TempDir Path dir) {
    int[] status = {0};
    String[] lines = runCapturingStderr(List.of("-conf", dir.resolve("nope.json").toString()), status);
    assertThat(status[0]).isEqualTo(2);
    assertThat(lines[0]).contains("cannot read config file").endsWith(": no such file");
  }

  /** {@code check -conf FILE} validates as start-up would and starts nothing: 0, or 2 naming the key. */
  @Test
  void checkValidatesTheConfigWithoutStartingAnything(@TempDir Path dir) throws Exception {
    Path good = dir.resolve("good.json");
    Files.writeString(good, "{\"http\":{\"port\":8080},\"backends\":[{\"port\":211}]}");
    Path bad = dir.resolve("bad.json");
    Files.writeString(bad, "{\"http\":{\"port\":70000},\"backends\":[{\"port\":211}]}");
    PrintStream old = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      assertThat(Main.run(List.of("check", "-conf", good.toString()))).isZero();
      assertThat(Main.run(List.of("version"))).isZero();
    } finally {
      System.setOut(old);
    }
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("good.json is valid").contains("dstunnel ");
    int[] status = {0};
    String[] lines = runCapturingStderr(List.of("check", "-conf", bad.toString()), status);
    assertThat(status[0]).isEqualTo(2);
    assertThat(lines).hasSize(1);
    assertThat(lines[0]).contains("http.port").contains("70000");
  }
}

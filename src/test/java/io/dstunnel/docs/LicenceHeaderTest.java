// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every Java source file starts with the licence header (the convention in
 * src/site/markdown/contributing.md): the SPDX identifier, then the copyright line.
 */
class LicenceHeaderTest {

  static final List<String> HEADER = List.of(
      "// SPDX-License-Identifier: Apache-2.0",
      "// Copyright The dstunnel Authors");

  @Test
  void everyJavaFileStartsWithTheLicenceHeader() throws IOException {
    List<Path> files = new ArrayList<>();
    for (String root : List.of("src", "load-tests/src")) {
      try (Stream<Path> walk = Files.walk(Path.of(root))) {
        walk.filter(p -> p.toString().endsWith(".java")).forEach(files::add);
      }
    }
    List<String> missing = new ArrayList<>();
    for (Path f : files) {
      List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
      if (lines.size() < HEADER.size() || !lines.subList(0, HEADER.size()).equals(HEADER)) {
        missing.add(f.toString());
      }
    }
    assertThat(files).as("Java files found").hasSizeGreaterThan(100);
    assertThat(missing).as("files without the licence header (first lines: %s)", HEADER).isEmpty();
  }

  @Test
  void theContributingPageStatesTheHeader() throws IOException {
    String page = Files.readString(Path.of("src/site/markdown/contributing.md"));
    assertThat(page).contains(String.join("\n", HEADER));
  }
}

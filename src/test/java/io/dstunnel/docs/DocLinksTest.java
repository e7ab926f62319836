// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The documentation's relative links resolve: every {@code [text](target)} outside code blocks in
 * the README, the pages under src/site/markdown and the folders' READMEs names an existing file,
 * and a {@code #anchor} names a heading of the page it points to (GitHub's heading ids).
 */
class DocLinksTest {

  static final Path SITE = Path.of("src/site/markdown");
  static final List<String> PAGES = List.of("configuration.md", "operations.md", "cluster.md", "rest.md",
      "security.md", "kubernetes.md", "performance.md", "architecture.md", "contributing.md");
  private static final Pattern LINK = Pattern.compile("\\[[^\\]]*\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
  private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$");

  static List<Path> documents() throws IOException {
    List<Path> docs = new ArrayList<>(List.of(Path.of("README.md"), Path.of("conf/README.md"),
        Path.of("k8s/README.md"), Path.of("load-tests/README.md")));
    try (Stream<Path> pages = Files.list(SITE)) {
      pages.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
    }
    return docs;
  }

  @Test
  void everyPageExistsAndTheReadmeLinksToIt() throws IOException {
    String readme = Files.readString(Path.of("README.md"));
    for (String page : PAGES) {
      assertThat(SITE.resolve(page)).as("page").isRegularFile();
      assertThat(readme).as("README links to " + page).contains("](src/site/markdown/" + page);
    }
  }

  @Test
  void everyRelativeLinkResolves() throws IOException {
    List<String> broken = new ArrayList<>();
    int checked = 0;
    for (Path doc : documents()) {
      for (String target : links(doc)) {
        if (target.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
          continue; // http:, https:, mailto: — not relative
        }
        checked++;
        int hash = target.indexOf('#');
        String file = hash < 0 ? target : target.substring(0, hash);
        String anchor = hash < 0 ? null : target.substring(hash + 1);
        Path resolved = file.isEmpty() ? doc : doc.toAbsolutePath().getParent().resolve(file).normalize();
        if (!Files.exists(resolved)) {
          broken.add(doc + ": " + target + " (no such file)");
        } else if (anchor != null && resolved.toString().endsWith(".md") && !anchors(resolved).contains(anchor)) {
          broken.add(doc + ": " + target + " (no such heading)");
        }
      }
    }
    assertThat(checked).as("relative links checked").isGreaterThan(10);
    assertThat(broken).as("broken links").isEmpty();
  }

  /** The link targets of a Markdown file, outside fenced code blocks and inline code. */
  static List<String> links(Path doc) throws IOException {
    List<String> targets = new ArrayList<>();
    boolean fenced = false;
    for (String line : Files.readAllLines(doc)) {
      if (line.strip().startsWith("```")) {
        fenced = !fenced;
        continue;
      }
      if (fenced) {
        continue;
      }
      Matcher m = LINK.matcher(line.replaceAll("`[^`]*`", "``"));
      while (m.find()) {
        targets.add(m.group(1));
      }
    }
    return targets;
  }

  /** GitHub's ids for the headings of a Markdown file. */
  static Set<String> anchors(Path doc) throws IOException {
    Set<String> ids = new LinkedHashSet<>();
    Map<String, Integer> seen = new HashMap<>();
    boolean fenced = false;
    for (String line : Files.readAllLines(doc)) {
      if (line.strip().startsWith("```")) {
        fenced = !fenced;
      }
      Matcher m = HEADING.matcher(line);
      if (fenced || !m.matches()) {
        continue;
      }
      String id = m.group(1).toLowerCase(Locale.ROOT)
          .replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
      int n = seen.merge(id, 1, Integer::sum);
      ids.add(n == 1 ? id : id + "-" + (n - 1));
    }
    return ids;
  }
}

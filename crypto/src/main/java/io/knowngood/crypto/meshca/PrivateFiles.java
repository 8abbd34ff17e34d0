package io.knowngood.crypto.meshca;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Writes secrets owner-only (rw-------) where the file system has POSIX permissions, atomically. */
final class PrivateFiles {
  private PrivateFiles() {}

  static void write(Path file, byte[] content) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp;
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      tmp = Files.createTempFile(dir, ".tmp-", ".part",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } else {
      tmp = Files.createTempFile(dir, ".tmp-", ".part");
    }
    try {
      Files.write(tmp, content);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}

package io.knowngood.crypto.bundle;

/** The rules a file path inside a bundle must follow; one place so packer and verifier agree. */
final class BundlePaths {
    static final int MAX_PATH_LENGTH = 1024;

    private BundlePaths() {
    }

    /** Returns why {@code path} is not allowed, or null when it is. */
    static String problem(String path) {
        if (path == null || path.isEmpty()) {
            return "empty path";
        }
        if (path.length() > MAX_PATH_LENGTH) {
            return "longer than " + MAX_PATH_LENGTH + " characters";
        }
        if (path.indexOf('\0') >= 0) {
            return "contains NUL";
        }
        if (path.indexOf('\\') >= 0) {
            return "contains a backslash";
        }
        if (path.startsWith("/")) {
            return "absolute";
        }
        if (path.endsWith("/")) {
            return "ends with /";
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty()) {
                return "empty segment";
            }
            if (segment.equals("..")) {
                return "contains ..";
            }
            if (segment.equals(".")) {
                return "contains .";
            }
        }
        for (int i = 0; i < path.length(); i++) {
            if (Character.isISOControl(path.charAt(i))) {
                return "contains a control character";
            }
        }
        return null;
    }
}

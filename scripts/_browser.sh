# Sourced by scripts/test.sh: Debian's chromium and a CJK font for the browser tests.
# Playwright's own browser download cannot work on these machines; it is never used.
# Installed with apt-get when missing (CI runs as root); otherwise say what to run.
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's chromium and fonts-wqy-microhei for the browser tests ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >&2
  else
    echo "The browser tests need Debian's chromium and a CJK font:" \
      "sudo apt-get install chromium fonts-wqy-microhei" >&2
  fi
fi

// dialerctl: the admin-socket client (CONTRACT.md "dialerctl"). All logic is in
// daemon/ctl_*.cpp, in the dialer_daemon library the tests link.

#include "daemon/ctl_run.hpp"

int main(int argc, char** argv) {
  return dialer::daemon::ctl::ctl_main(argc, argv);
}

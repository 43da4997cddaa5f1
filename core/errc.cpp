#include "core/errc.hpp"

#include <stdexcept>

namespace dialer {
namespace {

class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "dialer"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok:
        return "success";
      case errc::invalid_argument:
        return "invalid argument";
      case errc::parse_error:
        return "parse error";
      case errc::not_found:
        return "not found";
      case errc::conflict:
        return "conflict with current state";
      case errc::io_error:
        return "I/O error";
      case errc::timeout:
        return "deadline expired";
      case errc::db_error:
        return "database error";
      case errc::schema_too_new:
        return "database schema is newer than this program";
      case errc::limit_exceeded:
        return "limit exceeded";
      case errc::unsupported:
        return "unsupported";
      case errc::duplicate:
        return "already exists";
      case errc::invalid_transition:
        return "transition not allowed";
      case errc::protocol_error:
        return "protocol error";
      case errc::cancelled:
        return "cancelled";
    }
    return "unknown dialer error " + std::to_string(ev);
  }
};

}  // namespace

const boost::system::error_category& dialer_category() noexcept {
  static const Category category;
  return category;
}

void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw std::runtime_error(e.what());
}

}  // namespace dialer

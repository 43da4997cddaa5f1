#pragma once
/// The completion token of every awaited Asio/Beast operation whose failure is a value (STYLE:
/// expected failures are values): `auto [ec, n] = co_await op(…, use_nothrow);` answers the
/// error code instead of throwing it.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace dialer {

inline constexpr auto use_nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);

}  // namespace dialer

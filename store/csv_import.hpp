#pragma once
/// Compatibility include: the CSV reader (store/csv_reader.hpp) and the contact importer
/// (store/contact_import.hpp) used to live here. New code includes those directly.

#include "store/contact_import.hpp"
#include "store/csv_reader.hpp"

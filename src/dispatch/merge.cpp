#include "outlet/dispatch.h"

namespace outlet {
namespace {

bool truthy(const Json& value) {
  if (value.is_boolean())
    return value.get<bool>();
  if (value.is_null())
    return false;
  if (value.is_number())
    return value != 0;
  if (value.is_string())
    return !value.get_ref<const std::string&>().empty();
  return !value.empty();
}

void merge_into(Json& target, const Json& source) {
  for (const auto& [key, value] : source.items()) {
    auto it = target.find(key);
    if (it == target.end() || it->is_null()) {
      target[key] = value;
    } else if (it->is_boolean() && value.is_boolean()) {
      *it = it->get<bool>() || value.get<bool>();
    } else if (it->is_array() && value.is_array()) {
      it->insert(it->end(), value.begin(), value.end());
    } else if (it->is_object() && value.is_object()) {
      merge_into(*it, value);
    }
    // Anything else: the first setter wins.
  }
}

}  // namespace

std::string_view filter_action_name(FilterAction action) {
  switch (action) {
    case FilterAction::kPass:
      return "pass";
    case FilterAction::kModify:
      return "modify";
    case FilterAction::kDrop:
      return "drop";
    case FilterAction::kFailed:
      return "failed";
  }
  return "unknown";
}

Json merge_concat(const std::vector<Contribution>& contributions) {
  Json list = Json::array();
  for (const Contribution& c : contributions) {
    if (c.value.is_array()) {
      list.insert(list.end(), c.value.begin(), c.value.end());
    } else if (!c.value.is_null()) {
      list.push_back(c.value);
    }
  }
  return list;
}

Json merge_first_wins(const std::vector<Contribution>& contributions) {
  for (const Contribution& c : contributions) {
    if (!c.value.is_null())
      return c.value;
  }
  return nullptr;
}

Json merge_last_wins(const std::vector<Contribution>& contributions) {
  for (auto it = contributions.rbegin(); it != contributions.rend(); ++it) {
    if (!it->value.is_null())
      return it->value;
  }
  return nullptr;
}

bool merge_any(const std::vector<Contribution>& contributions) {
  for (const Contribution& c : contributions) {
    if (truthy(c.value))
      return true;
  }
  return false;
}

Json merge_dispatch_results(const std::vector<Contribution>& contributions) {
  Json merged = Json::object();
  for (const Contribution& c : contributions) {
    if (c.value.is_object())
      merge_into(merged, c.value);
  }
  return merged;
}

}  // namespace outlet

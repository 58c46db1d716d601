#include "kernels/layout.hpp"

#include <cmath>
#include <stdexcept>

namespace arcsim::kernels {

namespace {
std::size_t product(const std::vector<std::int64_t>& shape) {
  std::size_t p = 1;
  for (auto d : shape) p *= static_cast<std::size_t>(d);
  return p;
}
}  // namespace

void BucketLayout::validate() const {
  if (!names.empty() && names.size() != shapes.size())
    throw std::invalid_argument("bucket layout: " + std::to_string(names.size()) + " names for " +
                                std::to_string(shapes.size()) + " shapes");
  for (std::size_t t = 0; t < shapes.size(); ++t)
    for (auto d : shapes[t])
      if (d < 0) throw std::invalid_argument("bucket layout: tensor " + name(t) + " has a negative dimension");
}

std::size_t BucketLayout::numel() const {
  std::size_t n = 0;
  for (const auto& s : shapes) n += product(s);
  return n;
}

std::size_t BucketLayout::numel(std::size_t tensor) const { return product(shapes.at(tensor)); }

std::size_t BucketLayout::offset(std::size_t tensor) const {
  std::size_t off = 0;
  for (std::size_t t = 0; t < tensor; ++t) off += product(shapes[t]);
  return off;
}

std::string BucketLayout::name(std::size_t tensor) const {
  return names.empty() ? "t" + std::to_string(tensor) : names.at(tensor);
}


ShapeRule parse_shape_rule(const std::string& s) {
  if (s == "reference") return ShapeRule::kReference;
  if (s == "rows") return ShapeRule::kRows;
  throw std::invalid_argument("shape_rule: expected reference|rows, got '" + s + "'");
}

RowView row_view(const std::vector<std::int64_t>& shape, ShapeRule rule, int rank, bool exact,
                 const std::string& name) {
  const std::size_t d = product(shape);
  RowView v;
  if (shape.size() <= 1) {
    v = {d, 1, true};
  } else if (shape.size() == 2 || rule == ShapeRule::kRows) {
    v.rows = static_cast<std::size_t>(shape[0]);
    v.cols = v.rows == 0 ? 0 : d / v.rows;
  } else {
    const auto t = static_cast<std::size_t>(shape.back());
    const std::size_t m = 2 * t * t;
    if (m == 0 || d % m != 0)
      throw std::invalid_argument("tensor " + name + ": shape rule 'reference' views it as rows of 2*t^2 = " +
                                  std::to_string(m) + " (t = last dim) but its size " + std::to_string(d) +
                                  " is not divisible by that");
    v.rows = d / m;
    v.cols = m;
  }
  if (exact) v.own_sketch = true;
  if (rule == ShapeRule::kRows && v.cols <= static_cast<std::size_t>(rank)) v.own_sketch = true;
  return v;
}

std::size_t k_of(double ratio, std::size_t n) {
  if (n == 0) return 0;
  const auto k = static_cast<std::size_t>(std::floor(ratio * static_cast<double>(n)));
  return std::min(n, std::max<std::size_t>(1, k));
}

}  // namespace arcsim::kernels

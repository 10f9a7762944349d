// One time step of integrate-and-fire neurons in one pass over their memory.
//
// TensorFlow's own operations take five kernels per step (add, compare, cast,
// multiply, subtract), each reading and writing the whole layer. This kernel
// reads the current and the potential once and writes the outputs and the new
// potential once. It computes the same float32 operations in the same order as
// snn_core.neurons, so its results are equal bit for bit:
//
//   p = retain * v + current          (retain = 1 - leak; 1 for plain IF)
//   s = p >= threshold ? 1 : 0
//   outputs = s * threshold
//   v' = p - s * threshold            (reset by subtraction)
//   v' = p * (1 - s)                  (reset to zero)
//
// Build flags (see snn_core/kernels/__init__.py): -fno-trapping-math lets the
// compiler vectorize the comparison, and -ffp-contract=off keeps the multiply
// and the add separate, as TensorFlow computes them.

#define EIGEN_USE_THREADS

#include <cstdint>
#include <string>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "unsupported/Eigen/CXX11/Tensor"

namespace snn {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;

REGISTER_OP("SnnIntegrateAndFire")
    .Input("current: float")
    .Input("potential: float")
    .Input("threshold: float")
    .Attr("retain: float = 1.0")
    .Attr("reset: {'subtract', 'zero'} = 'subtract'")
    .Output("outputs: float")
    .Output("new_potential: float")
    .SetShapeFn([](::tensorflow::shape_inference::InferenceContext* context) {
      context->set_output(0, context->input(0));
      context->set_output(1, context->input(1));
      return absl::OkStatus();
    })
    .Doc(R"doc(
Advances integrate-and-fire neurons by one time step.

current: input current, any shape.
potential: membrane potentials, the shape of current.
threshold: a scalar, or one threshold per channel (the last axis).
retain: fraction of the potential kept from the last step (1 - leak).
reset: 'subtract' keeps the surplus above the threshold, 'zero' discards it.
outputs: spikes times the threshold.
new_potential: membrane potentials after the step.
)doc");

template <bool kResetToZero, bool kPerChannel>
void Step(const float* current, const float* potential, const float* threshold, float retain, float* outputs,
          float* new_potential, int64_t first, int64_t last) {
  // Elements first..last-1. With kPerChannel, element i has threshold[i], so
  // the caller passes one row of channels at a time. Outputs may share memory
  // with the inputs of the same index, because each element is read before it
  // is written.
  for (int64_t i = first; i < last; ++i) {
    const float theta = threshold[kPerChannel ? i : 0];
    const float p = retain * potential[i] + current[i];
    const float spike = static_cast<float>(p >= theta);
    outputs[i] = spike * theta;
    new_potential[i] = kResetToZero ? p * (1.0f - spike) : p - spike * theta;
  }
}

template <bool kResetToZero>
void StepRows(const float* current, const float* potential, const float* threshold, int64_t channels,
              float retain, float* outputs, float* new_potential, int64_t first_row, int64_t last_row) {
  for (int64_t row = first_row; row < last_row; ++row) {
    const int64_t offset = row * channels;
    Step<kResetToZero, true>(current + offset, potential + offset, threshold, retain, outputs + offset,
                             new_potential + offset, 0, channels);
  }
}

class IntegrateAndFireOp : public OpKernel {
 public:
  explicit IntegrateAndFireOp(OpKernelConstruction* context) : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("retain", &retain_));
    std::string reset;
    OP_REQUIRES_OK(context, context->GetAttr("reset", &reset));
    reset_to_zero_ = reset == "zero";
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& current = context->input(0);
    const Tensor& potential = context->input(1);
    const Tensor& threshold = context->input(2);

    OP_REQUIRES(context, current.shape() == potential.shape(),
                absl::InvalidArgumentError("current and potential must have the same shape, got " +
                                           current.shape().DebugString() + " and " +
                                           potential.shape().DebugString()));
    const int64_t channels = threshold.NumElements();
    const int64_t last_axis = current.dims() > 0 ? current.dim_size(current.dims() - 1) : 1;
    OP_REQUIRES(context, channels == 1 || channels == last_axis,
                absl::InvalidArgumentError("threshold must have 1 element or one per channel (" +
                                           std::to_string(last_axis) + "), got " +
                                           std::to_string(channels)));

    // Reuse the input buffers where nothing else refers to them. In a loop,
    // that updates the potential in place.
    Tensor* outputs = nullptr;
    Tensor* new_potential = nullptr;
    OP_REQUIRES_OK(context, context->forward_input_or_allocate_output({0}, 0, current.shape(), &outputs));
    OP_REQUIRES_OK(context, context->forward_input_or_allocate_output({1}, 1, potential.shape(), &new_potential));

    const float* current_data = current.flat<float>().data();
    const float* potential_data = potential.flat<float>().data();
    const float* threshold_data = threshold.flat<float>().data();
    float* outputs_data = outputs->flat<float>().data();
    float* new_potential_data = new_potential->flat<float>().data();
    const float retain = retain_;
    const bool reset_to_zero = reset_to_zero_;

    const auto& device = context->eigen_device<Eigen::ThreadPoolDevice>();
    if (channels == 1) {
      // 8 bytes read, 8 written and a few instructions per element.
      const Eigen::TensorOpCost cost(8, 8, 4);
      device.parallelFor(current.NumElements(), cost, [=](Eigen::Index first, Eigen::Index last) {
        auto step = reset_to_zero ? Step<true, false> : Step<false, false>;
        step(current_data, potential_data, threshold_data, retain, outputs_data, new_potential_data, first, last);
      });
      return;
    }

    const Eigen::TensorOpCost cost(8.0 * channels, 8.0 * channels, 4.0 * channels);
    device.parallelFor(current.NumElements() / channels, cost, [=](Eigen::Index first, Eigen::Index last) {
      auto step = reset_to_zero ? StepRows<true> : StepRows<false>;
      step(current_data, potential_data, threshold_data, channels, retain, outputs_data, new_potential_data,
           first, last);
    });
  }

 private:
  float retain_;
  bool reset_to_zero_;
};

REGISTER_KERNEL_BUILDER(Name("SnnIntegrateAndFire").Device(::tensorflow::DEVICE_CPU), IntegrateAndFireOp);

}  // namespace snn

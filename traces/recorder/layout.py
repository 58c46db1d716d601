"""Model -> trace layout: parameters in registration order with shape, dtype and the layer
(the module that owns the parameter directly) whose backward produces its gradient."""
_DTYPES = {"torch.float32": "float32", "torch.float16": "float16", "torch.bfloat16": "bfloat16",
           "torch.float64": "float64"}


def owning_layers(model):
    """{parameter name: layer (module) name}, for modules that own parameters directly."""
    out = {}
    for mod_name, mod in model.named_modules():
        for p_name, _ in mod.named_parameters(recurse=False):
            out[f"{mod_name}.{p_name}" if mod_name else p_name] = mod_name or "(root)"
    return out


def model_layout(model, model_name):
    layers = owning_layers(model)
    params = [{"name": n, "shape": list(p.shape), "dtype": _DTYPES[str(p.dtype)], "layer": layers[n]}
              for n, p in model.named_parameters() if p.requires_grad]
    return {"model": model_name, "parameters": params}
